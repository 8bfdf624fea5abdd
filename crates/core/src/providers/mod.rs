//! The providers Cliffwatch knows: what each one measures, which key it needs, where its
//! balance endpoint and its top-up page are. Facts come from the providers' public docs (see
//! the README's provider table). Adapters that poll them live in one module per provider.

use serde::Serialize;
use ts_rs::TS;

/// What kind of service a provider is; the dashboard groups by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Category {
    /// Prepaid LLM credit with a balance endpoint.
    Llm,
    /// LLM vendors that only report spend: remaining = the user's budget − spend since it was set.
    SpendOnly,
    Scraping,
    Search,
    Captcha,
    Telecom,
    Custom,
}

/// A provider-specific setting an account needs besides its key.
#[derive(Debug, Clone, Copy, Serialize, TS)]
#[ts(export)]
pub struct OptionSpec {
    /// Key in the account's `options` JSON and the CLI flag name (`--project-id`).
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
}

/// Static facts about one provider.
#[derive(Debug, Clone, Copy, Serialize, TS)]
#[ts(export)]
pub struct ProviderInfo {
    /// Stable id used in the CLI, the database and the API (`openrouter`).
    pub id: &'static str,
    pub name: &'static str,
    pub category: Category,
    /// Where requests go unless the account overrides it.
    pub default_base_url: &'static str,
    /// What the balance is counted in, in words ("USD", "credits", "characters").
    pub units: &'static str,
    /// Which key the balance endpoint needs, in words.
    pub key_help: &'static str,
    /// The provider's billing / top-up page.
    pub top_up_url: &'static str,
    /// The provider's own limit on how often its balance endpoint may be called.
    pub min_poll_interval_s: u32,
    pub options: &'static [OptionSpec],
}

const NO_OPTIONS: &[OptionSpec] = &[];
const DEFAULT_MIN_POLL_S: u32 = 60;

macro_rules! provider {
    ($id:literal, $name:literal, $cat:ident, $url:literal, $units:literal, $key:literal, $top:literal) => {
        provider!($id, $name, $cat, $url, $units, $key, $top, DEFAULT_MIN_POLL_S, NO_OPTIONS)
    };
    ($id:literal, $name:literal, $cat:ident, $url:literal, $units:literal, $key:literal, $top:literal, $min:expr, $opts:expr) => {
        ProviderInfo {
            id: $id,
            name: $name,
            category: Category::$cat,
            default_base_url: $url,
            units: $units,
            key_help: $key,
            top_up_url: $top,
            min_poll_interval_s: $min,
            options: $opts,
        }
    };
}

/// Every provider, in the order the CLI lists them.
pub static PROVIDERS: &[ProviderInfo] = &[
    provider!("openrouter", "OpenRouter", Llm, "https://openrouter.ai",
        "USD", "API key (per-key limit via /api/v1/key) or management key (account credits via /api/v1/credits)",
        "https://openrouter.ai/settings/credits"),
    provider!("deepseek", "DeepSeek", Llm, "https://api.deepseek.com",
        "CNY or USD", "API key", "https://platform.deepseek.com/top_up"),
    provider!("moonshot", "Moonshot AI (Kimi)", Llm, "https://api.moonshot.ai",
        "USD (.ai) or CNY (.cn host)", "API key; set --base-url https://api.moonshot.cn for the China platform",
        "https://platform.moonshot.ai/console/pay"),
    provider!("siliconflow", "SiliconFlow", Llm, "https://api.siliconflow.cn",
        "CNY (.cn) or USD (.com host)", "API key", "https://cloud.siliconflow.cn/expensebill"),
    provider!("deepinfra", "DeepInfra", Llm, "https://api.deepinfra.com",
        "USD", "API key", "https://deepinfra.com/dash/billing"),
    provider!("novita", "Novita AI", Llm, "https://api.novita.ai",
        "USD (reported in 1/10000 USD)", "API key", "https://novita.ai/billing"),
    provider!("venice", "Venice AI", Llm, "https://api.venice.ai",
        "USD or DIEM", "API key", "https://venice.ai/settings/api"),
    provider!("zenmux", "ZenMux", Llm, "https://zenmux.ai",
        "USD", "management key", "https://zenmux.ai/settings/billing"),
    provider!("elevenlabs", "ElevenLabs", Llm, "https://api.elevenlabs.io",
        "characters (credits)", "API key (xi-api-key)", "https://elevenlabs.io/app/subscription"),
    provider!("deepgram", "Deepgram", Llm, "https://api.deepgram.com",
        "USD", "API key with access to the project", "https://console.deepgram.com/billing",
        DEFAULT_MIN_POLL_S, &[OptionSpec { key: "project_id", label: "Project ID", required: true }]),
    provider!("openai", "OpenAI", SpendOnly, "https://api.openai.com",
        "USD spend (remaining = your budget − spend)", "admin key (sk-admin-…), created by an organization owner; set --budget",
        "https://platform.openai.com/settings/organization/billing/overview"),
    provider!("anthropic", "Anthropic", SpendOnly, "https://api.anthropic.com",
        "USD spend (remaining = your budget − spend)", "admin key (sk-ant-admin…); set --budget",
        "https://console.anthropic.com/settings/billing"),
    provider!("scraperapi", "ScraperAPI", Scraping, "https://api.scraperapi.com",
        "credits", "API key", "https://dashboard.scraperapi.com/billing"),
    provider!("scrapingbee", "ScrapingBee", Scraping, "https://app.scrapingbee.com",
        "credits", "API key", "https://app.scrapingbee.com/account/manage/plan",
        10, NO_OPTIONS),
    provider!("zenrows", "ZenRows", Scraping, "https://api.zenrows.com",
        "USD and credits", "API key", "https://app.zenrows.com/billing"),
    provider!("scrapingant", "ScrapingAnt", Scraping, "https://api.scrapingant.com",
        "credits", "API key", "https://app.scrapingant.com/dashboard"),
    provider!("brightdata", "Bright Data", Scraping, "https://api.brightdata.com",
        "USD", "API token (account settings)", "https://brightdata.com/cp/billing"),
    provider!("apify", "Apify", Scraping, "https://api.apify.com",
        "USD (monthly usage limit)", "API token", "https://console.apify.com/billing"),
    provider!("firecrawl", "Firecrawl", Scraping, "https://api.firecrawl.dev",
        "credits", "API key", "https://www.firecrawl.dev/app/billing"),
    provider!("serpapi", "SerpApi", Search, "https://serpapi.com",
        "searches", "API key", "https://serpapi.com/change-plan"),
    provider!("tavily", "Tavily", Search, "https://api.tavily.com",
        "credits", "API key", "https://app.tavily.com/billing"),
    provider!("twocaptcha", "2Captcha", Captcha, "https://api.2captcha.com",
        "USD", "API key (clientKey)", "https://2captcha.com/enterpage"),
    provider!("anticaptcha", "Anti-Captcha", Captcha, "https://api.anti-captcha.com",
        "USD", "API key (clientKey)", "https://anti-captcha.com/clients/finance/refill",
        30, NO_OPTIONS),
    provider!("capsolver", "CapSolver", Captcha, "https://api.capsolver.com",
        "USD", "API key (clientKey)", "https://dashboard.capsolver.com/dashboard/recharge"),
    provider!("twilio", "Twilio", Telecom, "https://api.twilio.com",
        "account currency (USD …)", "Auth token (or API key secret) of the account",
        "https://console.twilio.com/us1/billing/manage-billing/billing-overview",
        DEFAULT_MIN_POLL_S, &[OptionSpec { key: "account_sid", label: "Account SID (AC…)", required: true }]),
    provider!("custom", "Custom (declarative)", Custom, "",
        "any (you choose)", "whatever your endpoint needs, or none", "",
        DEFAULT_MIN_POLL_S, &[OptionSpec { key: "spec", label: "Request and JSON-pointer spec (JSON)", required: true }]),
];

/// The provider with this id.
pub fn find(id: &str) -> crate::Result<&'static ProviderInfo> {
    PROVIDERS
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| crate::Error::UnknownProvider(id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_urls_are_https() {
        let mut ids: Vec<_> = PROVIDERS.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PROVIDERS.len(), "duplicate provider id");
        assert_eq!(PROVIDERS.len(), 26, "25 providers + custom");
        for p in PROVIDERS.iter().filter(|p| p.id != "custom") {
            assert!(p.default_base_url.starts_with("https://"), "{}: base URL", p.id);
            assert!(p.top_up_url.starts_with("https://"), "{}: top-up URL must be https", p.id);
        }
    }

    #[test]
    fn unknown_id_names_itself() {
        let err = find("openrouterr").unwrap_err();
        assert_eq!(err.kind(), "unknown_provider");
        assert!(err.to_string().contains("openrouterr"));
    }
}
