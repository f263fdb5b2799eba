/** Injection token of the SpecChecker the API checks specs with (ApiModuleOptions.specLimits; off the event loop when large). */
export const SPEC_CHECKER = Symbol('WEFT_SPEC_CHECKER');
