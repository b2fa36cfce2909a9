/** This package's name and version: the instrumentation scope of its tracer and meter. */
export const INSTRUMENTATION_NAME = "@ttrpc/otel";
/** Kept in step with package.json (a test checks it). */
export const INSTRUMENTATION_VERSION = "0.1.0";
