export { main, buildProgram } from "./main";
export { startEmbedded, type EmbeddedRuntime, type EmbeddedOptions } from "./embedded/embedded-runtime";
export { runReport, type RunReport } from "./output/run-report";
export { composeDev, type Composition } from "./dev/compose";
