/**
 * The Shapes benchmark: captioned synthetic scenes for training and evaluating small text-to-image and
 * text-to-video models without downloaded weights, and an analyzer that reads generated outputs back.
 * Overview, design choices and measured numbers: {@code docs/SHAPES.md}.
 *
 * <h2>Scenes</h2>
 * A {@link dev.viditq.eval.shapes.Scene} is the ground truth: {@link dev.viditq.eval.shapes.Kind} (image: one
 * 32×32 RGB frame; video: 16), a {@link dev.viditq.eval.shapes.Background}, and one or two
 * {@link dev.viditq.eval.shapes.SceneObject}s (shape, color, size, center; videos also direction and speed).
 * {@link dev.viditq.eval.shapes.Renderer} is a pure function of the scene; {@link dev.viditq.eval.shapes.Captioner}
 * phrases it; {@link dev.viditq.eval.shapes.ShapesGenerator} makes the deterministic train/calib/eval prompt sets;
 * {@link dev.viditq.eval.shapes.ShapesAnalyzer} reads images and videos back.
 *
 * <h2>Export file format {@code viditq-shapes/1}</h2>
 * Written by {@link dev.viditq.eval.shapes.ShapesExport} ({@code ./viditq shapes export}). A standard safetensors
 * file (8-byte little-endian header length, JSON header, data); when the file name ends in {@code .gz}, the whole
 * safetensors file is gzip-compressed (read it with {@code gzip.open(path).read()}, then parse the bytes).
 * N is the number of prompts; all integers little-endian.
 * <table>
 *   <caption>Tensors, in file order</caption>
 *   <tr><th>name</th><th>dtype</th><th>shape</th><th>content</th></tr>
 *   <tr><td>{@code pixels}</td><td>U8</td><td>[N, 32, 32, 3] (image) or [N, 16, 32, 32, 3] (video)</td>
 *       <td>RGB 0..255, rows top to bottom, channels last (NHWC / NTHWC); frame t of a video at index t</td></tr>
 *   <tr><td>{@code caption_bytes}</td><td>U8</td><td>[total bytes]</td><td>all captions, UTF-8, concatenated</td></tr>
 *   <tr><td>{@code caption_offsets}</td><td>I64</td><td>[N + 1]</td>
 *       <td>caption i is {@code caption_bytes[offsets[i]:offsets[i+1]]}; offsets[0] = 0, offsets[N] = total</td></tr>
 *   <tr><td>{@code index}</td><td>I64</td><td>[N]</td>
 *       <td>the prompt's index in its split (train: stream index, so prompt i = ShapesGenerator.train(kind, seed, i))</td></tr>
 *   <tr><td>{@code background}</td><td>I8</td><td>[N]</td><td>index into metadata {@code backgrounds}</td></tr>
 *   <tr><td>{@code objects}</td><td>I8</td><td>[N, 2, 8]</td>
 *       <td>per object slot the fields of metadata {@code object_fields}: present (1, or 0 for an empty second
 *       slot, whose other fields are -1), shape, color, size (indices into metadata {@code shapes}, {@code colors},
 *       {@code sizes}), row, col (grid cell 0..2 of the center at frame 0; for videos the start cell, which
 *       captions do not state), direction, speed (indices into {@code directions}, {@code speeds}; -1 for images)</td></tr>
 *   <tr><td>{@code centers}</td><td>F32</td><td>[N, 2, 2]</td>
 *       <td>(x, y) bounding-box center at frame 0 in pixels, the canvas spanning [0, 32] (pixel i covers [i, i+1));
 *       0 for an empty slot. A video object moves by speed·t pixels along its direction at frame t
 *       (slow 0.4 px/frame, fast 1.0)</td></tr>
 * </table>
 * Metadata ({@code __metadata__}, all values strings): {@code format} = {@code viditq-shapes/1}; {@code kind}
 * (image|video); {@code split} (train|calib|eval); {@code seed} (the train stream seed, or {@code fixed});
 * {@code count}; {@code frames} (1 or 16); {@code height}, {@code width} (32); {@code pixel_layout} (NHWC or
 * NTHWC); JSON lists {@code object_fields}, {@code shapes}, {@code colors}, {@code sizes}, {@code directions},
 * {@code speeds}, {@code backgrounds} (the caption words of each index) and {@code vocabulary}
 * ({@link dev.viditq.eval.shapes.ShapesVocabulary#words()}); {@code tokenize} (the tokenization rule in words:
 * lower-case, split on whitespace, "," and ":" are tokens of their own).
 */
package dev.viditq.eval.shapes;
