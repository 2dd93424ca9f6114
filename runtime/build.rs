fn main() {
	#[cfg(feature = "std")]
	{
		substrate_wasm_builder::WasmBuilder::build_using_defaults();

		// The next runtime as the upgrade tests need it: this one with a higher spec version
		// and a storage migration (the `upgrade-fixture` feature). Only `dt_runtime` and the
		// documents pallet compile again; every other crate is shared with the build above.
		substrate_wasm_builder::WasmBuilder::new()
			.with_current_project()
			.enable_feature("upgrade-fixture")
			.set_file_name("dt_runtime_upgrade_fixture.rs")
			.build();
	}
}
