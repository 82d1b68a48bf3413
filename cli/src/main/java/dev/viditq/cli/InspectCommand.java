package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.PthFile;
import dev.viditq.core.io.ShardedCheckpoint;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

@Command(name = "inspect", mixinStandardHelpOptions = true, description = {
        "List the tensors of a checkpoint (dtype, shape, bytes), the totals and the metadata.",
        "FILE: a .safetensors, a PyTorch .pth/.pt/.bin (zip or legacy), a shard index",
        "(*.index.json) or a folder holding one of these (diffusers layout).",
        "Example: ./viditq inspect PixArt-XL-2-512x512.pth --json"})
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "Checkpoint file or folder.")
    Path file;

    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Option(names = "--entry", paramLabel = "KEY", description = "PyTorch files only: the dict holding the weights, "
            + "e.g. model or state_dict/ema ('' for the top level). Default: automatic, the first of ema, model, "
            + "state_dict, module that is a dict.")
    String entry;

    /** Totals of one group of tensors (all of them, or one dtype). */
    private static final class Sum {
        long tensors, parameters, bytes;

        void add(Tensor t) {
            tensors++;
            parameters += t.numel();
            bytes += t.byteSize();
        }

        ObjectNode toJson() {
            ObjectNode o = Json.object();
            o.put("tensors", tensors);
            o.put("parameters", parameters);
            o.put("bytes", bytes);
            return o;
        }

        @Override
        public String toString() {
            return tensors + " tensors, " + parameters + " parameters, " + bytes + " bytes"
                    + (bytes >= 1024 ? " (" + human(bytes) + ")" : "");
        }
    }

    @Override
    public Integer call() {
        try (TensorFile f = Checkpoints.open(file, entry)) {
            Sum total = new Sum();
            Map<DType, Sum> byDtype = new TreeMap<>();
            for (String name : f.names()) {
                Tensor t = f.get(name);
                total.add(t);
                byDtype.computeIfAbsent(t.dtype(), d -> new Sum()).add(t);
            }
            if (json) {
                Json.print(toJson(f, total, byDtype));
            } else {
                printText(f, total, byDtype);
            }
        }
        return 0;
    }

    private static String format(TensorFile f) {
        return switch (f) {
            case PthFile _ -> "pytorch";
            case ShardedCheckpoint s -> "sharded (" + s.shards().size() + " files)";
            default -> "safetensors";
        };
    }

    private static ObjectNode toJson(TensorFile f, Sum total, Map<DType, Sum> byDtype) {
        ObjectNode o = Json.object();
        o.put("file", f.path().toString());
        o.put("format", format(f));
        if (f instanceof PthFile p) {
            o.put("entry", p.entry());
            ArrayNode ignored = o.putArray("ignored");
            p.ignored().forEach(ignored::add);
        }
        if (f instanceof ShardedCheckpoint s) {
            ArrayNode shards = o.putArray("shards");
            s.shards().forEach(shard -> shards.add(shard.path().getFileName().toString()));
        }
        ArrayNode tensors = o.putArray("tensors");
        for (String name : f.names()) {
            Tensor t = f.get(name);
            ObjectNode n = tensors.addObject();
            n.put("name", name);
            n.put("dtype", t.dtype().name());
            ArrayNode shape = n.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            n.put("bytes", t.byteSize());
        }
        o.set("total", total.toJson());
        ObjectNode dtypes = o.putObject("by_dtype");
        byDtype.forEach((d, s) -> dtypes.set(d.name(), s.toJson()));
        ObjectNode meta = o.putObject("metadata");
        f.metadata().forEach(meta::put);
        return o;
    }

    private static void printText(TensorFile f, Sum total, Map<DType, Sum> byDtype) {
        System.out.println("file      " + f.path() + " (" + format(f) + ")");
        if (f instanceof PthFile p) {
            System.out.println("entry     " + (p.entry().isEmpty() ? "(top level)" : p.entry())
                    + (p.ignored().isEmpty() ? "" : "; ignored: " + String.join(", ", p.ignored())));
        }
        int width = Math.min(72, f.names().stream().mapToInt(String::length).max().orElse(4));
        String row = "%-" + Math.max(width, 4) + "s  %-5s  %-22s  %s%n";
        System.out.printf(row, "NAME", "DTYPE", "SHAPE", "BYTES");
        for (String name : f.names()) {
            Tensor t = f.get(name);
            System.out.printf(row, name, t.dtype(), Arrays.toString(t.shape()), t.byteSize());
        }
        System.out.println("total     " + total);
        byDtype.forEach((d, s) -> System.out.printf("  %-6s  %s%n", d, s));
        if (!f.metadata().isEmpty()) {
            System.out.println("metadata");
            f.metadata().forEach((k, v) -> System.out.println("  " + k + " = " + v));
        }
    }

    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
