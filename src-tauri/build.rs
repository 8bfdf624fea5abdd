fn main() {
    // Every app command must be granted in capabilities/ explicitly (least privilege): the
    // app manifest turns each into a permission `allow-<command>`.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["get_status", "list_providers"])),
    )
    .expect("tauri-build failed");
}
