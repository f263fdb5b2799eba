// `weft run` keeps its runs in WEFT_DATA_DIR (.weft/data in the working directory) by default:
// specs must neither write nor lock the checkout's, so they run in memory unless they say otherwise.
process.env.WEFT_DATA_DIR ??= 'memory://';
