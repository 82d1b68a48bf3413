package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.HostileCheckpoints;
import dev.viditq.quant.checkpoint.FolderSeal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The hostile and absurd inputs of the abuse suite, made under one folder, each with the command that must refuse it
 * and what the refusal must say. {@link #fast} is what CI runs; {@link #extended} adds the slow and exhaustive ones
 * (every sealed field altered in turn, larger bombs); {@link #aside} is a second set kept apart from development,
 * run only to check the work.
 */
final class AbuseCases {
    static final Path T2I = Path.of("..", "assets", "models", "shapes-t2i");
    static final Path T2V = Path.of("..", "assets", "models", "shapes-t2v");
    static final String PROMPT = "a large red circle in the top left on a black background";

    /** What a case must end in: an exit code, fragments stderr must hold, fragments it must not, files it may leave. */
    record Expect(int code, List<String> contains, List<String> absent, List<String> allowedNew, List<Path> gone) {
        Expect(int code, List<String> contains, List<String> absent, List<String> allowedNew) {
            this(code, contains, absent, allowedNew, List.of());
        }
    }

    record Spec(AbuseRunner.Case run, Expect expect) {}

    private final Path root;
    private final List<Spec> specs = new ArrayList<>();
    private Path quantized;

    private AbuseCases(Path root) {
        this.root = root;
    }

    // ------------------------------------------------------------------ the sets

    static List<Spec> fast(Path root) throws IOException {
        AbuseCases c = new AbuseCases(root);
        c.loaders(false);
        c.configs();
        c.outputs();
        c.numbers(false);
        c.sealed(false);
        return c.specs;
    }

    static List<Spec> extended(Path root) throws IOException {
        AbuseCases c = new AbuseCases(root);
        c.loaders(true);
        c.configs();
        c.everySizeKeyWithAbsurdValues();
        c.outputs();
        c.numbers(true);
        c.sealed(true);
        return c.specs;
    }

    /**
     * The set kept aside: written once, not run while the code was changed, run at the end to check that the
     * refusals generalise beyond the cases they were written against.
     */
    static List<Spec> aside(Path root) throws IOException {
        AbuseCases c = new AbuseCases(root);
        Path w = c.folder("aside");
        HostileCheckpoints.compressedStorage(w.resolve("storage.pth"), 2000L << 20);
        c.refuse("aside: a deflated storage inflating to 2 GB", w, "is compressed, and inflating it",
                "convert", w.resolve("storage.pth").toString(), w.resolve("storage.safetensors").toString());
        Path many = w.resolve("many.safetensors");
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < 1_000_000; i++) h.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
        writeSafetensorsHeader(many, h.append("}").toString());
        // first expected to load (exit 0): it took 22 s of CPU and nearly all of the 1 GB heap, so headers now get a heap budget
        c.refuse("aside: a header of a million empty tensors", w, "of heap to parse, more than a quarter of the", "inspect", many.toString());
        Path dirOut = Files.createDirectories(w.resolve("a-folder"));
        c.refuse("aside: generate --out an existing folder", w, "is a directory; give the output file's name", generate(T2I, dirOut));
        Path huge = c.model("aside-float-size", T2I, cfg -> cfg.put("hidden_size", 1e30));
        c.refuse("aside: hidden_size 1e30", huge, "\"hidden_size\" is 1.0E30", generate(huge, huge.resolve("out.png")));
        Path frames = c.model("aside-frames", T2V, cfg -> cfg.set("input_size", parse("[100000, 32, 32]")));
        c.refuse("aside: STDiT input_size [100000, 32, 32]", frames, "needs an estimated", generate(frames, frames.resolve("out.gif")));
        Path t5 = c.model("aside-t5", T2I, cfg -> { });
        Files.delete(t5.resolve("text_encoder"));
        copyTree(T2I.resolve("text_encoder"), t5.resolve("text_encoder"));
        edit(t5.resolve("text_encoder/config.json"), s -> s.replaceFirst("\"d_model\": *\\d+", "\"d_model\": -1"));
        c.refuse("aside: text encoder d_model -1", t5, "text_encoder", generate(t5, t5.resolve("out.png")));
        Path index = w.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"w\": \"../../../etc/passwd\"}}");
        c.refuse("aside: a shard index pointing outside its folder", w, "expected a file name beside the index", "inspect", index.toString());
        Path q = c.quantizedBase();
        Path bigSeal = copyTree(q, c.folder("aside-big-seal").resolve("q"));
        Files.write(bigSeal.resolve(FolderSeal.FILE), new byte[70 << 20]);
        c.refuse("aside: a 70 MB seal file", bigSeal.getParent(), "larger than 64.0 MiB", generate(bigSeal, bigSeal.resolve("o.png")));
        Path otherCkpt = copyTree(q, c.folder("aside-seal-path").resolve("q"));
        edit(otherCkpt.resolve(FolderSeal.FILE), s -> s.replace("\"checkpoint\" : \"model.safetensors\"", "\"checkpoint\" : \"../x/model.safetensors\""));
        c.refuse("aside: a seal naming another checkpoint", otherCkpt.getParent(), "seal file", generate(otherCkpt, otherCkpt.resolve("o.png")));
        c.refuse("aside: quantize --out /dev/null", w, "/dev/null: is a character device, not a folder",
                "quantize", "--model", T2I.toString(), "--preset", "quarot-w8a8", "--out", "/dev/null");
        c.refuse("aside: quantize a quantized folder", w, "already quantized", "quantize", "--model", q.toString(), "--preset",
                "quarot-w8a8", "--out", w.resolve("qq").toString());
        Path bomb = w.resolve("alias.yaml");
        StringBuilder y = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 12; i++) y.append("a").append(i).append(": &a").append(i).append(" [").append(("*a" + (i - 1) + ", ").repeat(9)).append("*a").append(i - 1).append("]\n");
        Files.writeString(bomb, y.toString());
        c.refuse("aside: a YAML alias bomb", w, "alias.yaml", "quantize", "--model", T2I.toString(), "--config", bomb.toString(),
                "--out", w.resolve("qa").toString());
        Path memo = w.resolve("memo.pth");
        HostileCheckpoints.inflationBomb(memo, 64L << 20, (byte) 0x94, new byte[]{(byte) 0x80, 2, 'N'});
        c.refuse("aside: 64 MB of MEMOIZE", w, "malformed pickle", "inspect", memo.toString());
        Path exportLink = Files.createSymbolicLink(w.resolve("o.onnx.data"), Path.of("/tmp/elsewhere"));
        c.refuse("aside: export onnx whose .data is a link", w, "o.onnx.data: is a symbolic link",
                "export", "onnx", "--model", T2I.toString(), "--out", w.resolve("o.onnx").toString());
        Path self = c.folder("aside-self").resolve("self.safetensors");
        Files.copy(T2I.resolve("model.safetensors"), self);
        c.expect("aside: convert a file onto itself", self.getParent(), new Expect(0, List.of(), List.of(), List.of()),
                "convert", self.toString(), self.toString(), "--dtype", "f32");
        return c.specs;
    }

    // ------------------------------------------------------------------ loaders

    private void loaders(boolean big) throws IOException {
        Path w = folder("pickles");
        HostileCheckpoints.zipWithPickle(w.resolve("shared-dicts.pth"), HostileCheckpoints.sharedDictLevels(10, 10), false);
        refuse("pickle: 10 levels x 10 keys sharing dicts through the memo", w, "holds one dict under two keys",
                "inspect", w.resolve("shared-dicts.pth").toString());
        HostileCheckpoints.zipWithPickle(w.resolve("copies.pth"), HostileCheckpoints.copiedSharedList(20_000, big ? 1_000_000 : 100_000), true);
        refuse("pickle: a shared list copied by set() again and again", w, "malformed pickle archive/data.pkl at byte",
                "convert", w.resolve("copies.pth").toString(), w.resolve("copies.safetensors").toString());
        HostileCheckpoints.inflationBomb(w.resolve("bomb.pth"), 1600L << 20);
        refuse("zip: data.pkl deflated, inflating to 1.6 GB", w, "declares 1.6 GiB of pickle",
                "convert", w.resolve("bomb.pth").toString(), w.resolve("bomb.safetensors").toString());
        HostileCheckpoints.inflationBomb(w.resolve("pushes.pth"), 48L << 20, (byte) 'N', new byte[]{(byte) 0x80, 2});
        refuse("zip: 48 MB of pickle pushes (the heap budget)", w, "unpickling would hold more than",
                "inspect", w.resolve("pushes.pth").toString());
        HostileCheckpoints.zipWithPickle(w.resolve("deep.pth"), HostileCheckpoints.nestedDicts(big ? 2_000_000 : 200_000), true);
        refuse("pickle: dicts nested 200000 deep", w, "nests dicts more than 16 deep", "inspect", w.resolve("deep.pth").toString());
        HostileCheckpoints.zipWithPickle(w.resolve("long-keys.pth"), HostileCheckpoints.longKeyPath(1_000_000, 16), true);
        refuse("pickle: a 1 MB key repeated at 16 levels", w, "key path longer than 4096 characters",
                "inspect", w.resolve("long-keys.pth").toString());
        Path header = w.resolve("header.safetensors");
        Files.write(header, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(0).array());
        refuse("safetensors: a header length of 1 TB", w, "header length 1099511627776 is impossible",
                "inspect", header.toString());
        Path nested = w.resolve("nested.safetensors");
        writeSafetensorsHeader(nested, "[".repeat(100_000) + "]".repeat(100_000));
        refuse("safetensors: a header of JSON arrays nested 100000 deep", w, "header is not valid JSON",
                "inspect", nested.toString());
    }

    // ------------------------------------------------------------------ configs and options

    private void configs() throws IOException {
        refuseConfig("config: depth 1000000000", "depth", "1000000000", "\"depth\" is 1000000000; it must be an integer from 1 to");
        refuseConfig("config: depth 100000 (a parameter estimate beyond memory)", "depth", "100000", "makes an estimated");
        refuseConfig("config: num_heads -4", "num_heads", "-4", "\"num_heads\" is -4");
        refuseConfig("config: num_heads 3 does not divide 256", "num_heads", "3", "\"num_heads\" 3 does not divide \"hidden_size\" 256");
        refuseConfig("config: patch_size 0", "patch_size", "0", "\"patch_size\" is 0");
        refuseConfig("config: hidden_size as a string", "hidden_size", "\"256\"", "\"hidden_size\" is \"256\"");
        Path dup = model("config-duplicate-key", T2I, cfg -> { });
        String text = Files.readString(dup.resolve("config.json"));
        Files.writeString(dup.resolve("config.json"), text.replaceFirst("\\{", "{\"depth\": 1000000000, "));
        refuse("config: a duplicate key", dup, "Duplicate field 'depth'", generate(dup, dup.resolve("out.png")));

        Path w = folder("options");
        refuse("generate --size 100000x100000", w, "100000x100000 × 1 frame(s) × batch 1 in the denoiser needs an estimated",
                withArgs(generate(T2I, w.resolve("out.png")), "--size", "100000x100000"));
        refuse("generate --frames 100000", w, "needs an estimated",
                withArgs(generate(T2V, w.resolve("out.gif")), "--frames", "100000"));
        expect("calibrate --count -3", w, new Expect(2, List.of("--count must be between 1 and 1000000, got -3"), List.of(), List.of()),
                "calibrate", "--model", T2I.toString(), "--count", "-3", "--out", w.resolve("c.safetensors").toString());
        expect("generate --steps 0", w, new Expect(2, List.of("--steps must be between 1 and 100000, got 0"), List.of(), List.of()),
                withArgs(generate(T2I, w.resolve("out.png")), "--steps", "0"));
        Path binary = w.resolve("prompts.bin");
        Files.write(binary, new byte[]{(byte) 0xff, (byte) 0xfe, 0, 1, 2, (byte) 0x80, '\n'});
        refuse("generate --prompts with a binary file", w, binary + ": is not UTF-8 text (a binary file?)",
                "generate", "--model", T2I.toString(), "--prompts", binary.toString(), "--out", w.resolve("out.png").toString());

        Path yaml = folder("yaml");
        Files.writeString(yaml.resolve("dup.yaml"), "method: quarot\nweight: {bits: 8}\nweight: {bits: 4}\nactivation: {bits: 8, dynamic: true}\n");
        refuse("quant config: a duplicate key", yaml, "Duplicate field 'weight'",
                "quantize", "--model", T2I.toString(), "--config", yaml.resolve("dup.yaml").toString(), "--out", yaml.resolve("q").toString());
        Files.writeString(yaml.resolve("escape.yaml"), "preset: quarot-w8a8\npart_fp_list: /etc/passwd\n");
        expect("quant config: part_fp_list outside the config's folder", yaml,
                new Expect(1, List.of("part_fp_list names '/etc/passwd', which lies outside the config's folder"), List.of("root:"), List.of()),
                "quantize", "--model", T2I.toString(), "--config", yaml.resolve("escape.yaml").toString(), "--out", yaml.resolve("q").toString());
        Files.write(yaml.resolve("list.txt"), new byte[]{'x', '_', 'e', 'm', 'b', '\n', 's', 'e', 'c', 'r', 'e', 't', ' ', '$', 'x', '\n'});
        Files.writeString(yaml.resolve("list.yaml"), "preset: quarot-w8a8\npart_fp_list: list.txt\n");
        expect("quant config: part_fp_list with a line that is no module name", yaml,
                new Expect(1, List.of("line 2 of", "is not a module name"), List.of("secret"), List.of()),
                "quantize", "--model", T2I.toString(), "--config", yaml.resolve("list.yaml").toString(), "--out", yaml.resolve("q").toString());
    }

    /** Generated: each size key of the bundled config set to each absurd value in turn; the error must name the key. */
    private void everySizeKeyWithAbsurdValues() throws IOException {
        JsonNode cfg = Json.MAPPER.readTree(T2I.resolve("config.json").toFile());
        for (String key : List.of("input_size", "patch_size", "in_channels", "hidden_size", "depth", "num_heads",
                "caption_channels", "model_max_length")) {
            if (!cfg.has(key)) continue;
            for (String value : List.of("0", "-7", "2147483648", "1000000000", "2.5", "\"x\"", "[3]", "{}")) {
                refuseConfig("generated config: " + key + " = " + value, key, value, "\"" + key + "\"");
            }
        }
    }

    private void refuseConfig(String name, String key, String json, String fragment) throws IOException {
        Path m = model(name.replaceAll("[^a-z0-9]+", "-"), T2I, cfg -> cfg.set(key, parse(json)));
        refuse(name, m, fragment, generate(m, m.resolve("out.png")));
    }

    // ------------------------------------------------------------------ outputs

    private void outputs() throws IOException {
        Path w = folder("outputs");
        Path in = T2I.resolve("model.safetensors");
        if (Files.exists(Path.of("/dev/full"))) {
            refuse("convert to /dev/full", w, "/dev/full: is a character device; refusing to replace it", "convert", in.toString(), "/dev/full");
        }
        Path victim = w.resolve("victim.txt");
        Files.writeString(victim, "keep");
        Path link = Files.createSymbolicLink(w.resolve("link.safetensors"), victim.getFileName());
        refuse("convert to a symbolic link", w, "is a symbolic link; refusing to replace it", "convert", in.toString(), link.toString());
        Path fifo = w.resolve("fifo");
        try {
            if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0) {
                refuse("convert to a FIFO", w, "is a FIFO (named pipe); refusing to replace it", "convert", in.toString(), fifo.toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Path file = w.resolve("a-file");
        Files.writeString(file, "x");
        refuse("generate into a folder that is a file", w, "is not a folder", generate(T2I, file.resolve("out.png")));
        refuse("forward to /proc (not writable), found before the work", w, "cannot be written",
                "forward", "--model", T2I.toString(), "--inputs", in.toString(), "--out", "/proc/viditq-out.safetensors");
        Path existing = Files.createDirectories(w.resolve("existing-q"));
        refuse("quantize over an existing folder, found before the work", w, "already exists; remove it or pass --force",
                "quantize", "--model", T2I.toString(), "--preset", "quarot-w8a8", "--out", existing.toString());
        Path stale = w.resolve(".swept.safetensors." + deadPid() + "-5eed.viditq-tmp");
        Files.writeString(stale, "a killed run's temporary");
        expect("convert sweeps a killed run's temporary", w, new Expect(0, List.of(), List.of(), List.of("swept.safetensors"), List.of(stale)),
                "convert", in.toString(), w.resolve("swept.safetensors").toString());
    }

    /** The pid of a process that has exited. */
    private static long deadPid() throws IOException {
        try {
            Process p = new ProcessBuilder("true").start();
            p.waitFor();
            return p.pid();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    // ------------------------------------------------------------------ numbers and prompts

    /** {@code slow}: also the cases that sample (the first sampling step of a JVM compiles the kernels: seconds). */
    private void numbers(boolean slow) throws IOException {
        Path nan = model("nan-weight", T2I, cfg -> { });
        String victim = poison(nan.resolve("model.safetensors"), T2I.resolve("model.safetensors"), "attn.proj.weight");
        refuse("a NaN weight", nan, "tensor '" + victim + "' holds NaN at element 7", generate(nan, nan.resolve("out.png")));
        if (!slow) return;
        Path nanText = model("nan-text-encoder", T2I, cfg -> { });
        Files.delete(nanText.resolve("text_encoder"));
        copyTree(T2I.resolve("text_encoder"), nanText.resolve("text_encoder"));
        poison(nanText.resolve("text_encoder/model.safetensors"), T2I.resolve("text_encoder/model.safetensors"), "final_layer_norm.weight");
        refuse("a NaN in the text encoder makes the latents NaN", nanText, "the latent after sampling step 1 of 2 holds NaN",
                withArgs(generate(nanText, nanText.resolve("out.png")), "--steps", "2"));
        Path w = folder("numbers");
        expect("unknown words are named once", w, new Expect(0, List.of("warning: prompt 'a red circel frobnicated':",
                        "'circel', 'frobnicated'"), List.of(), List.of("words.png")),
                "generate", "--model", T2I.toString(), "--prompt", "a red circel frobnicated", "--steps", "2", "--out", w.resolve("words.png").toString());
        expect("a prompt longer than the captions is said to be cut", w, new Expect(0, List.of("note: prompt", "the last", "are cut"),
                        List.of(), List.of("long.png")),
                "generate", "--model", T2I.toString(), "--prompt", (PROMPT + " and ").repeat(4) + PROMPT, "--steps", "2",
                "--out", w.resolve("long.png").toString());
    }

    // ------------------------------------------------------------------ quantized folders

    private void sealed(boolean everyField) throws IOException {
        Path base = quantizedBase();
        tamper("seal: removed", base, q -> deleteChecked(q.resolve(FolderSeal.FILE)), "has no seal (viditq-seal.json)");
        tamper("seal: the seal file edited", base, q -> edit(q.resolve(FolderSeal.FILE), s -> s.replaceFirst("\"sha256:[0-9a-f]", "\"sha256:f")),
                "the seal file was edited");
        tamperCheckpoint("plan: a layer's rotation seed", base, (h, b) -> layer(h, 0, l -> ((ObjectNode) l.get("rotation")).put("seed", 7)), "plan entry");
        tamperCheckpoint("plan: a layer's activation bits", base, (h, b) -> layer(h, 0, l -> l.put("activation_bits", 6)), "plan entry");
        tamperCheckpoint("plan: the checksums key deleted", base, (h, b) -> quantization(h, q -> q.remove("checksums")),
                "metadata 'viditq.quantization' differs");
        tamperCheckpoint("tensors: two layers swapped with their checksums", base, AbuseCases::swapLayers, "differs");
        tamperCheckpoint("tensors: a bias flipped", base, (h, b) -> flip(h, b, name -> name.endsWith("attn.proj.bias")), "attn.proj.bias' differs");
        tamper("files: config.json edited", base, q -> edit(q.resolve("config.json"), s -> s.replace("\"depth\": 6", "\"depth\":  6")),
                "file 'config.json' differs");
        tamper("files: a scheduler added", base, q -> {
            Files.createDirectories(q.resolve("scheduler"));
            Files.writeString(q.resolve("scheduler/scheduler_config.json"), "{\"_class_name\": \"DDIMScheduler\"}");
        }, "file 'scheduler/scheduler_config.json' is not covered by the seal (added)");
        Path trusted = copyTree(base, folder("seal-trusted").resolve("q"));
        deleteChecked(trusted.resolve(FolderSeal.FILE));
        expect("--trust-unsealed loads it with a warning (then --size stops it)", trusted.getParent(), new Expect(1,
                        List.of("warning: ", "has no seal", "loading it anyway (--trust-unsealed)", "100000x100000"), List.of(), List.of()),
                withArgs(generate(trusted, trusted.getParent().resolve("out.png")), "--trust-unsealed", "--size", "100000x100000"));
        if (everyField) everySealedField(base);
    }

    /** Each field of a layer's plan entry and of the plan's scheme, each tensor kind, each file: one at a time. */
    private void everySealedField(Path base) throws IOException {
        JsonNode plan = Json.MAPPER.readTree(header(Files.readAllBytes(base.resolve("model.safetensors"))).get("__metadata__")
                .get("viditq.quantization").asText()).get("plan");
        JsonNode first = plan.get("layers").properties().iterator().next().getValue();
        for (Iterator<String> it = first.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            tamperCheckpoint("plan field " + field, base, (h, b) -> layer(h, 0, l -> l.set(field, altered(l.get(field)))), "plan entry");
        }
        for (String field : List.of("method", "source", "weights", "activations", "notes")) {
            tamperCheckpoint("plan scheme field " + field, base,
                    (h, b) -> quantization(h, q -> ((ObjectNode) q.get("plan")).set(field, altered(q.get("plan").get(field)))), "plan entry '(scheme)'");
        }
        tamperCheckpoint("metadata format", base, (h, b) -> quantization(h, q -> q.put("format", 2)), "differs");
        for (String suffix : List.of(".w8.q", ".w8.scale", ".w8.zero", ".bias", "x_embedder.proj.weight", "y_embedding")) {
            tamperCheckpoint("tensor " + suffix, base, (h, b) -> flip(h, b, name -> name.endsWith(suffix)), "differs");
        }
        try (Stream<Path> files = Files.walk(base)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String rel = base.relativize(f).toString();
                if (rel.equals("model.safetensors") || rel.equals(FolderSeal.FILE)) continue;
                tamper("file " + rel, base, q -> { Files.write(q.resolve(rel), new byte[]{' '}, java.nio.file.StandardOpenOption.APPEND); },
                        "file '" + rel + "'");
            }
        }
    }

    private static JsonNode altered(JsonNode v) {
        if (v == null || v.isNull()) return Json.MAPPER.getNodeFactory().numberNode(1);
        if (v.isBoolean()) return Json.MAPPER.getNodeFactory().booleanNode(!v.asBoolean());
        if (v.isNumber()) return Json.MAPPER.getNodeFactory().numberNode(v.asInt() + 1);
        if (v.isTextual()) return Json.MAPPER.getNodeFactory().textNode(v.asText() + "x");
        if (v.isArray()) return ((ArrayNode) v.deepCopy()).add(1);
        ObjectNode o = v.deepCopy();
        o.put("added", 1);
        return o;
    }

    /** The bundled text-to-image model quantized with rotations (no calibration needed), once per suite. */
    private Path quantizedBase() throws IOException {
        if (quantized != null) return quantized;
        quantized = root.resolve("quantized-base");
        CliRun r = CliRun.run("quantize", "--model", T2I.toString(), "--preset", "quarot-w8a8",
                "--out", quantized.toString());
        if (r.code() != 0) throw new IOException("cannot make the quantized base folder: " + r.err());
        return quantized;
    }

    private interface FolderEdit {
        void apply(Path folder) throws IOException;
    }

    private void tamper(String name, Path base, FolderEdit edit, String fragment) throws IOException {
        Path w = folder(name.replaceAll("[^a-z0-9]+", "-"));
        Path q = copyTree(base, w.resolve("q"));
        edit.apply(q);
        refuse("quantized folder, " + name, w, fragment, generate(q, w.resolve("out.png")));
    }

    private void tamperCheckpoint(String name, Path base, BiConsumer<ObjectNode, byte[]> edit, String fragment) throws IOException {
        tamper(name, base, q -> {
            Path ckpt = q.resolve("model.safetensors");
            byte[] bytes = Files.readAllBytes(ckpt);
            ObjectNode h = header(bytes);
            byte[] body = Arrays.copyOfRange(bytes, dataStart(bytes), bytes.length);
            edit.accept(h, body);
            writeSafetensors(ckpt, h.toString(), body);
        }, fragment);
    }

    private static void swapLayers(ObjectNode h, byte[] body) {
        List<String> projs = h.propertyStream().map(e -> e.getKey()).filter(k -> k.endsWith("attn.proj.w8.q")).sorted().toList();
        for (String suffix : List.of(".w8.q", ".w8.scale", ".w8.zero")) {
            String a = projs.get(0).replace(".w8.q", suffix), b = projs.get(1).replace(".w8.q", suffix);
            JsonNode t = h.get(a);
            h.set(a, h.get(b));
            h.set(b, t);
        }
        quantization(h, q -> {
            ObjectNode sums = (ObjectNode) q.get("checksums");
            String a = projs.get(0).replace(".w8.q", ""), b = projs.get(1).replace(".w8.q", "");
            JsonNode t = sums.get(a);
            sums.set(a, sums.get(b));
            sums.set(b, t);
        });
    }

    private static void flip(ObjectNode h, byte[] body, java.util.function.Predicate<String> which) {
        String name = h.propertyStream().map(e -> e.getKey()).filter(which).sorted().findFirst()
                .orElseThrow(() -> new IllegalStateException("no such tensor"));
        int at = h.get(name).get("data_offsets").get(0).asInt();
        body[at + 1] ^= 0x04;
    }

    private static void quantization(ObjectNode h, Consumer<ObjectNode> edit) {
        ObjectNode meta = (ObjectNode) h.get("__metadata__");
        ObjectNode q = (ObjectNode) parse(meta.get("viditq.quantization").asText());
        edit.accept(q);
        meta.put("viditq.quantization", q.toString());
    }

    private static void layer(ObjectNode h, int index, Consumer<ObjectNode> edit) {
        quantization(h, q -> {
            Iterator<JsonNode> layers = q.get("plan").get("layers").elements();
            for (int i = 0; i < index; i++) layers.next();
            edit.accept((ObjectNode) layers.next());
        });
    }

    // ------------------------------------------------------------------ case plumbing

    private void refuse(String name, Path watch, String fragment, String... args) {
        expect(name, watch, new Expect(1, List.of(fragment), List.of(), List.of()), args);
    }

    private void expect(String name, Path watch, Expect expect, String... args) {
        specs.add(new Spec(new AbuseRunner.Case(name, List.of(args), watch), expect));
    }

    private static String[] generate(Path model, Path out) {
        return new String[]{"generate", "--model", model.toString(), "--prompt", PROMPT, "--out", out.toString()};
    }

    private static String[] withArgs(String[] args, String... more) {
        String[] all = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }

    private Path folder(String name) throws IOException {
        return Files.createDirectories(root.resolve(name));
    }

    /** A copy of a model folder with its config edited; the weights are links to the original (read-only use). */
    private Path model(String name, Path source, Consumer<ObjectNode> editConfig) throws IOException {
        Path m = folder(name).resolve("model");
        Files.createDirectories(m);
        try (Stream<Path> entries = Files.list(source)) {
            for (Path p : entries.toList()) {
                if (!p.getFileName().toString().equals("config.json")) Files.createSymbolicLink(m.resolve(p.getFileName()), p.toAbsolutePath());
            }
        }
        ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree(source.resolve("config.json").toFile());
        editConfig.accept(cfg);
        Files.writeString(m.resolve("config.json"), Json.MAPPER.writeValueAsString(cfg));
        return m;
    }

    static Path copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path d = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(d);
                else Files.copy(p, d);
            }
        }
        return to;
    }

    private static void deleteChecked(Path p) throws IOException {
        Files.delete(p);
    }

    private static void edit(Path file, java.util.function.UnaryOperator<String> change) throws IOException {
        String before = Files.readString(file);
        String after = change.apply(before);
        if (after.equals(before)) throw new IOException(file + ": the edit changed nothing");
        Files.writeString(file, after);
    }

    private static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    // ------------------------------------------------------------------ safetensors bytes

    private static int dataStart(byte[] file) {
        return 8 + (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    private static ObjectNode header(byte[] file) {
        return (ObjectNode) parse(new String(file, 8, dataStart(file) - 8, StandardCharsets.UTF_8));
    }

    private static void writeSafetensors(Path file, String header, byte[] body) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) b.put((byte) ' ');
        b.put(body);
        Files.write(file, b.array());
    }

    private static void writeSafetensorsHeader(Path file, String header) throws IOException {
        writeSafetensors(file, header, new byte[0]);
    }

    /** Writes {@code source} to {@code target} with element 7 of the first tensor ending in {@code suffix} set to NaN. */
    private static String poison(Path target, Path source, String suffix) throws IOException {
        byte[] bytes = Files.readAllBytes(source);
        ObjectNode header = header(bytes);
        String victim = header.propertyStream().map(e -> e.getKey()).filter(k -> k.endsWith(suffix)).findFirst().orElseThrow();
        String dtype = header.get(victim).get("dtype").asText();
        long at = dataStart(bytes) + header.get(victim).get("data_offsets").get(0).asLong() + (dtype.equals("F32") ? 4 : 2) * 7L;
        putFloat(bytes, at, dtype, Float.NaN);
        Files.deleteIfExists(target);
        Files.write(target, bytes);
        return victim;
    }

    private static void putFloat(byte[] file, long at, String dtype, float v) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case "F32" -> b.putFloat((int) at, v);
            case "BF16" -> b.putShort((int) at, (short) (Float.floatToRawIntBits(v) >>> 16));
            case "F16" -> b.putShort((int) at, Float.floatToFloat16(v));
            default -> throw new IllegalArgumentException(dtype);
        }
    }
}
