// A shared library that forgot VECRL_PLUGIN(): loading it must fail with a clear message.
extern "C" int vecrl_unrelated_symbol() { return 1; }
