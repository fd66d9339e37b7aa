// A plugin built for another plugin ABI: loading it must fail naming both versions.
extern "C" __attribute__((visibility("default"))) int vecrl_plugin_abi_version() { return 999; }
