fn main() {
    // Every app command must be granted in capabilities/ explicitly (least privilege): the
    // app manifest turns each into a permission `allow-<command>`.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "get_status",
            "list_providers",
            "app_info",
            "get_dashboard",
            "get_account",
            "add_account",
            "remove_account",
            "edit_account",
            "set_breaker",
            "replace_key",
            "open_top_up",
            "test_account",
            "poll_account",
            "list_events",
            "list_log_sources",
            "preview_log_source",
            "add_log_source",
            "remove_log_source",
            "get_settings",
            "save_settings",
            "get_read_api",
            "get_proxy",
            "list_channel_kinds",
            "list_channels",
            "add_channel",
            "test_channel",
            "remove_channel",
            "export_to",
        ]),
    ))
    .expect("tauri-build failed");
}
