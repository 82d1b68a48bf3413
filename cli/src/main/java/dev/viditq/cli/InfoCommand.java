package dev.viditq.cli;

import dev.viditq.core.cuda.Cuda;
import dev.viditq.core.cuda.CudaDevice;
import dev.viditq.core.cuda.CudaLibraries;
import java.util.List;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.quant.NativeMatrix;
import dev.viditq.core.parallel.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "info", description = "Version, JDK, CPU features and the kernel backends in use.%n"
        + "Example: ./viditq info --json")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Override
    public Integer call() {
        ObjectNode o = Json.object();
        o.put("version", new VersionProvider().getVersion()[0]);
        o.put("jdk", System.getProperty("java.vm.name") + " " + Runtime.version());
        o.put("os_arch", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        o.put("threads", Parallel.threads());
        o.put("float_kernels", KernelBackend.get().name());
        o.put("int_kernels", dev.viditq.core.kernels.quant.IntKernelBackend.description());
        o.put("precision", KernelBackend.precision().toString());
        o.put("amx", NativeMatrix.get().map(m -> m.has(NativeMatrix.Unit.AMX) ? "usable" : m.amxUnavailableReason())
                .orElse("native library unavailable"));
        List<String> libs = CudaLibraries.found();
        o.put("cuda_driver", libs.get(0));
        o.put("cublaslt", libs.get(1));
        o.put("nvrtc", libs.get(2));
        o.put("cuda", CudaDevice.get().map(d -> d + Cuda.unavailableReason().map(r -> "; unusable: " + r).orElse(""))
                .orElse("unavailable: " + CudaDevice.unavailableReason()));
        if (json) {
            Json.print(o);
        } else {
            o.fields().forEachRemaining(e -> System.out.printf("%-14s %s%n", e.getKey(), e.getValue().asText()));
        }
        return 0;
    }
}
