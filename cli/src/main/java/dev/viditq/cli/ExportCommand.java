package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.bench.onnx.OnnxExport;
import dev.viditq.core.io.SafeOutput;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

@Command(name = "export", description = "Write a model in another runtime's format. See the subcommands.",
        subcommands = {ExportCommand.OnnxCommand.class})
final class ExportCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    @Command(name = "onnx", mixinStandardHelpOptions = true, description = {
            "The denoiser as an ONNX graph (opset 20) that ONNX Runtime runs: PixArt-α/Σ, Open-Sora STDiT v1.0 and DiT",
            "in their original layouts. Weights become initializers in OUT.data beside OUT (FP32 for a float model); the graph is built",
            "for one latent size (default: the config's input_size), the batch is symbolic. Inputs: x, timestep,",
            "caption + caption_mask (text models; + img_hw, aspect_ratio with micro-conditions) or class_labels (DiT);",
            "output: out. A quantized model folder (./viditq quantize) is written with ONNX Runtime's integer operators:",
            "8-bit weights as com.microsoft DynamicQuantizeMatMul, 4-bit as MatMulNBits (accuracy_level 4), the ViDiT-Q",
            "balancing and Hadamard rotation as float ops before them, and a low-rank branch (svdquant-w4a8,",
            "viditq-lr-gptq-w4a8) as two float MatMuls (L2, then L1) added to the quantized MatMul's output.",
            "Example: ./viditq export onnx --model models/pixart --out pixart.onnx"})
    static final class OnnxCommand implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (config.json + checkpoint).")
        Path model;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The .onnx file to write (and FILE.data).")
        Path out;

        @Option(names = "--height", description = "Latent height (default: the config's input_size).")
        int height;

        @Option(names = "--width", description = "Latent width (default: the config's input_size).")
        int width;

        @Option(names = "--frames", description = "Video frames (STDiT; default: the config's).")
        int frames;

        @Option(names = "--json", description = "Print one JSON object on stdout.")
        boolean json;

        @Override
        public Integer call() {
            SafeOutput.checkFile(out, OutputPolicy.force);
            SafeOutput.checkFile(out.resolveSibling(out.getFileName() + ".data"), OutputPolicy.force);
            OnnxExport.Summary s = OnnxExport.export(model, out, height, width, frames);
            if (json) {
                ObjectNode o = Json.object();
                o.put("model", s.model().toString());
                o.put("data", s.data().toString());
                o.put("family", s.family());
                o.put("initializer_bytes", s.initializerBytes());
                o.put("latent_shape", Arrays.toString(s.latentShape()));
                o.put("precision", s.precision());
                Json.print(o);
            } else {
                System.out.printf("wrote %s (%s, %s, latent %s) and %s (%.1f MB of initializers)%n", s.model(), s.family(),
                        s.precision(), Arrays.toString(s.latentShape()), s.data(), s.initializerBytes() / 1e6);
            }
            return 0;
        }
    }
}
