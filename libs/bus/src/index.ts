export * from "./bus.port";
