package dev.viditq.cli;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.Callable;

@Command(name = "convert", mixinStandardHelpOptions = true, description = {
        "Write a checkpoint (.pth/.pt/.bin, .safetensors, a shard index or a folder)",
        "as one .safetensors file, streaming one tensor at a time. OUT is replaced",
        "atomically: it appears complete or not at all.",
        "Example: ./viditq convert PixArt-XL-2-512x512.pth pixart.safetensors --dtype bf16"})
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "Checkpoint file or folder to read.")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT", description = "The .safetensors file to write.")
    Path output;

    @Option(names = "--dtype", paramLabel = "bf16|f16|f32", description = "Cast floating-point tensors to this type "
            + "(rounding to nearest even); integer tensors are kept as they are.")
    String dtype;

    @Option(names = "--entry", paramLabel = "KEY", description = "PyTorch files only: the dict holding the weights "
            + "(see inspect --help). Default: automatic.")
    String entry;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        DType cast = parseCast(dtype);
        SafeOutput.checkFile(output, OutputPolicy.force);
        try (TensorFile in = Checkpoints.open(input, entry)) {
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            int casted = 0;
            long bytes = 0;
            for (String name : in.names()) {
                Tensor t = in.get(name);
                boolean convert = cast != null && t.dtype().isFloating() && t.dtype() != cast;
                DType to = convert ? cast : t.dtype();
                entries.add(new SafetensorsWriter.Entry(name, to, t.shape(), convert ? arena -> castInto(t, to, arena) : arena -> t));
                casted += convert ? 1 : 0;
                bytes += to.byteSize(t.numel());
            }
            Map<String, String> metadata = new LinkedHashMap<>(in.metadata());
            metadata.putIfAbsent("format", "pt"); // what the diffusers / transformers safetensors loaders look for
            SafetensorsWriter.writeEntries(output, entries, metadata);
            System.out.println("wrote " + output + ": " + entries.size() + " tensors, " + InspectCommand.human(bytes)
                    + (cast == null ? "" : " (" + casted + " cast to " + cast + ")"));
        }
        return 0;
    }

    private DType parseCast(String name) {
        if (name == null) return null;
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "bf16", "bfloat16" -> DType.BF16;
            case "f16", "fp16", "float16", "half" -> DType.F16;
            case "f32", "fp32", "float32", "float" -> DType.F32;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--dtype must be bf16, f16 or f32, not '" + name + "'");
        };
    }

    /** {@code t} converted to {@code to} in memory of {@code arena}, freed once the tensor is written. */
    private static Tensor castInto(Tensor t, DType to, Arena arena) {
        long n = t.numel();
        Tensor out = new Tensor(to, t.shape(), arena.allocate(Math.max(1, to.byteSize(n)), Tensor.ALIGNMENT).asSlice(0, to.byteSize(n)));
        for (long i = 0; i < n; i++) out.setFloat(i, t.getFloat(i));
        return out;
    }
}
