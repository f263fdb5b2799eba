/** Injection token of the SpecLimits the API checks specs against (ApiModuleOptions.specLimits). */
export const SPEC_LIMITS = Symbol('WEFT_SPEC_LIMITS');
