package dev.viditq.core.cuda;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Precision;
import dev.viditq.core.kernels.quant.CudaIntKernels;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code --device cuda}: switches the float kernels, the integer kernels and the activation pool to GPU 0, so the
 * same model code runs there. Weights go to the device at their first use and stay; activations are managed
 * memory. {@link #uninstall()} returns to the CPU.
 */
public final class Cuda {
    /** What a GPU run holds. */
    public record Session(CudaDevice device, CublasLt lt, DeviceMemory memory, IntKernels cpuIntKernels) {}

    private static Session session;

    private Cuda() {}

    /** Why the GPU cannot be used, or empty when it can. */
    public static Optional<String> unavailableReason() {
        Optional<CudaDevice> d = CudaDevice.get();
        if (d.isEmpty()) return Optional.of(CudaDevice.unavailableReason());
        List<String> reasons = new ArrayList<>();
        return lt(d.get(), reasons).isPresent() ? Optional.empty() : Optional.of(String.join("; ", reasons));
    }

    private static CublasLt cublasLt;

    private static synchronized Optional<CublasLt> lt(CudaDevice d, List<String> reasons) {
        if (cublasLt == null) cublasLt = CublasLt.open(d, reasons).orElse(null);
        return Optional.ofNullable(cublasLt);
    }

    /** Runs everything on GPU 0 from now on; throws with the reason when there is none. Idempotent. */
    public static synchronized Session install() {
        if (session != null) return session;
        CudaDevice device = CudaDevice.get().orElseThrow(() -> new IllegalStateException("--device cuda: " + CudaDevice.unavailableReason()));
        List<String> reasons = new ArrayList<>();
        CublasLt lt = lt(device, reasons).orElseThrow(() -> new IllegalStateException("--device cuda: " + String.join("; ", reasons)));
        DeviceMemory memory = new DeviceMemory(device);
        IntKernels cpuInt = IntKernelBackend.get();
        Map<Precision, Map<Tensor, Long>> weights = new EnumMap<>(Precision.class);
        KernelBackend.useDevice(p -> {
            Precision used = p == Precision.FP32 ? Precision.FP32 : Precision.BF16;
            return new CudaKernels(device, lt, memory, used, KernelBackend.cpuKernels(Precision.FP32),
                    weights.computeIfAbsent(used, k -> CudaKernels.weightCache()));
        });
        IntKernelBackend.set(new CudaIntKernels(device, lt, memory, cpuInt));
        ActivationPool.useBacking(memory);
        session = new Session(device, lt, memory, cpuInt);
        return session;
    }

    /** The running session, if {@link #install()} was called. */
    public static synchronized Optional<Session> session() {
        return Optional.ofNullable(session);
    }

    /** Back to the CPU kernels and host memory (device memory of this session stays allocated until exit). */
    public static synchronized void uninstall() {
        if (session == null) return;
        ActivationPool.useBacking(null);
        IntKernelBackend.set(session.cpuIntKernels());
        KernelBackend.useDevice(null);
        session = null;
    }
}
