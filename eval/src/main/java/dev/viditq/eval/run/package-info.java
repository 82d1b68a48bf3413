/**
 * The evaluation command ({@code ./viditq eval}) and the demo ({@code ./viditq demo}) on the Shapes benchmark.
 *
 * <p>Protocol ({@link dev.viditq.eval.run.ShapesEval}):
 * <ol>
 *   <li>Prompts: the first N of a fixed split ({@link dev.viditq.eval.shapes.ShapesGenerator#fixed}; eval 200
 *       images / 64 videos by default), each with its ground-truth scene; or free captions from a file (no
 *       ground truth).</li>
 *   <li>Sampling: the model config's "pipeline" recipe ({@link dev.viditq.eval.run.Recipe}) unless options
 *       override it; batches of B consecutive prompts, the batch starting at prompt i seeded with seed + i
 *       ({@link dev.viditq.eval.run.EvalSettings}).</li>
 *   <li>Outputs are rounded to 8 bits exactly as the PNG writer does, then read by the analyzer: caption alignment
 *       overall, per attribute and per object count; for videos motion accuracy (pooled direction and speed hits)
 *       and the temporal-consistency measures ({@link dev.viditq.eval.run.ShapesScores}).</li>
 *   <li>With a reference model: the same prompts, seeds, batches and resolved sampler settings; PSNR from the
 *       squared error pooled over all samples (per frame: pooled over samples), SSIM averaged
 *       ({@link dev.viditq.eval.run.FidelityScores}).</li>
 *   <li>Timing: wall time per sample and per denoising step (batch amortised, both guidance halves), with the
 *       first batch (JIT warm-up) reported apart.</li>
 * </ol>
 * Models are opened only through {@link dev.viditq.nn.pipeline.GenerationPipeline#load}, so quantized folders are
 * evaluated exactly like float ones.
 */
package dev.viditq.eval.run;
