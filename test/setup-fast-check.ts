import fc from "fast-check";

// Property tests run from a fixed seed so a CI run is reproducible; set FC_SEED to explore others
// (a failure prints its seed and path for replay).
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20_261_121) });
