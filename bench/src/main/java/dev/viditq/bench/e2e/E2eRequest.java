package dev.viditq.bench.e2e;

import dev.viditq.bench.arch.Architecture;

import java.nio.file.Path;

/**
 * One end-to-end measurement: an architecture at one setting, run by one engine.
 *
 * @param steps     measured sampling steps (one warm-up step runs before them)
 * @param threads   compute threads (our pool; ONNX Runtime's intra-op pool)
 * @param engine    {@link Engine#VIDITQ} (this project's runtime) or the ONNX Runtime peer
 * @param cacheRoot where random checkpoints and exported graphs are cached
 */
public record E2eRequest(Architecture arch, Setting setting, int steps, int threads, Engine engine, Path cacheRoot) {
    public E2eRequest {
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, is " + steps);
        if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, is " + threads);
    }

    /** Who runs the model. */
    public enum Engine {
        VIDITQ("viditq"), ONNXRUNTIME("onnxruntime");

        private final String label;

        Engine(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public static Engine parse(String s) {
            for (Engine e : values()) if (e.label.equals(s)) return e;
            throw new IllegalArgumentException("unknown engine '" + s + "' (viditq, onnxruntime)");
        }
    }

    /** Arguments that reproduce this request in a worker process ({@link E2eWorker}). */
    public String[] toArgs() {
        return new String[]{"--arch", arch.name(), "--setting", setting.label(), "--steps", Integer.toString(steps),
                "--threads", Integer.toString(threads), "--engine", engine.label(), "--cache", cacheRoot.toString()};
    }

    /** The inverse of {@link #toArgs()}. */
    public static E2eRequest fromArgs(String[] args) {
        java.util.Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) m.put(args[i], args[i + 1]);
        for (String key : new String[]{"--arch", "--setting", "--steps", "--threads", "--engine", "--cache"}) {
            if (!m.containsKey(key)) throw new IllegalArgumentException("worker arguments lack " + key + ": " + String.join(" ", args));
        }
        return new E2eRequest(Architecture.preset(m.get("--arch")), Setting.parse(m.get("--setting")),
                Integer.parseInt(m.get("--steps")), Integer.parseInt(m.get("--threads")), Engine.parse(m.get("--engine")),
                Path.of(m.get("--cache")));
    }
}
