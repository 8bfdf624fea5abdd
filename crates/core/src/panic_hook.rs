//! What a panic may print. The default hook prints the panic's message, and a message built
//! from input can quote that input (a log line with a key in its query string). No input should
//! panic (the fuzz targets hunt for any that does), but if one does, the hosts install this
//! hook: it names the place in the code and nothing that came from outside.

/// Installs the hook for the whole process (the CLI and the app call it first thing).
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        // `cliffwatch … | head` closes the pipe: `println!` panics on the broken pipe, which is
        // no bug. Exit as a process killed by SIGPIPE would, quietly.
        let payload = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if payload.contains("failed printing to stdout") && payload.contains("Broken pipe") {
            std::process::exit(141);
        }
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "an unknown place".into());
        eprintln!(
            "cliffwatch: internal error at {at} (the message is withheld: it may quote input); please report it"
        );
    }));
}
