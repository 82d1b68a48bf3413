package dev.viditq.core.kernels.quant;

import dev.viditq.core.cuda.CublasLt;
import dev.viditq.core.cuda.CudaDevice;
import dev.viditq.core.cuda.DeviceCall;
import dev.viditq.core.cuda.DeviceMemory;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The integer kernels on an NVIDIA GPU. Quantization: balancing and rotation signs (one column scaling), the
 * Hadamard blocks (one FP32 cuBLASLt product with H_b), then per-token int8 rounding half to even — the CPU
 * quantizer's formula, so the GPU and CPU give the same integers but where a value lies within an FP32 rounding of
 * a .5 boundary. W8A8: an int8 × int8 → int32 cuBLASLt product over the weights kept on the device as int8 [n, k]
 * with their scales and zero points, and an epilogue kernel applying zero point, token and channel scales and bias.
 * W4A8 runs on the CPU integer kernels over the same (managed) activations: slow, said once on stderr.
 */
public final class CudaIntKernels implements IntKernels {
    private final CudaDevice device;
    private final CublasLt lt;
    private final DeviceMemory memory;
    private final IntKernels cpu;
    private final Map<PackedInt8Weight, W8> weights = Collections.synchronizedMap(new WeakHashMap<>());
    private final Map<Integer, Long> hadamards = new ConcurrentHashMap<>();
    private final AtomicBoolean w4Reported = new AtomicBoolean();

    /** An int8 weight on the device: q [nPad, kPad] (zero padded), scales [n], signed zero points [n] or 0. */
    private record W8(long q, long scales, long zeros, int nPad, int kPad) {}

    public CudaIntKernels(CudaDevice device, CublasLt lt, DeviceMemory memory, IntKernels cpu) {
        this.device = device;
        this.lt = lt;
        this.memory = memory;
        this.cpu = cpu;
    }

    @Override
    public String name() {
        return "cuda int8 (" + device.name() + ", " + lt.library() + "; W4A8 on " + cpu.name() + ")";
    }

    @Override
    public void quantize(MemorySegment x, int rows, int k, ActivationTransform t, QuantizedActivations out) {
        IntKernelChecks.quantize(x, rows, k, t, out);
        out.setRows(rows);
        if (rows == 0) return;
        try (DeviceCall c = new DeviceCall(device, memory)) {
            long n = (long) rows * k;
            long y = c.in(x, n * 4);
            if (t != null && t.diag() != null) {
                long scaled = c.scratch("quant-scaled", n * 4);
                device.launch("scale_columns", c.grid(n), 256, 0, y, c.floats(t.diag()), scaled, n, k);
                y = scaled;
            }
            float post = 1f;
            if (t != null && t.rotation() != null) {
                int b = t.hadamardBlock();
                long rotated = c.scratch("quant-rotated", n * 4);
                long blocks = n / b;
                // y[blocks, b]·H_b: the GEMM computes x·Wᵀ with W = H_bᵀ stored row-major
                lt.matmul(new CublasLt.Shape(CublasLt.R_32F, CublasLt.R_32F, CublasLt.COMPUTE_32F, true, false, b, blocks, b,
                        b, b, b, 1, 0, 0, 0, false), hadamardTransposed(c, b), y, rotated, 0);
                y = rotated;
                post = t.post();
            }
            long qp = c.out(out.qSegment(), (long) rows * out.ldq());
            long sp = c.out(out.scaleSegment(), rows * 4L);
            long rp = c.out(out.rowSumSegment(), rows * 4L);
            device.launch("quantize_rows", rows, 256, 0, y, k, post, qp, out.ldq(), sp, rp);
        }
    }

    private long hadamardTransposed(DeviceCall c, int b) {
        return hadamards.computeIfAbsent(b, size -> {
            float[] h = Hadamard.dense(size);
            float[] ht = new float[size * size];
            for (int i = 0; i < size; i++) for (int j = 0; j < size; j++) ht[j * size + i] = h[i * size + j];
            long p = memory.residentWeight(ht.length * 4L);
            device.copy(p, c.floats(ht), ht.length * 4L);
            return p;
        });
    }

    @Override
    public void gemmW8A8(QuantizedActivations x, PackedInt8Weight w, MemorySegment bias, MemorySegment out) {
        IntKernelChecks.gemm(x, w, bias, out);
        int rows = x.rows(), n = w.n();
        if (rows == 0) return;
        try (DeviceCall c = new DeviceCall(device, memory)) {
            W8 dw = weights.computeIfAbsent(w, pw -> upload(c, pw));
            long qp = c.in(x.qSegment(), (long) rows * x.ldq());
            long sx = c.in(x.scaleSegment(), rows * 4L);
            long sums = c.in(x.rowSumSegment(), rows * 4L);
            long acc = c.scratch("w8a8-acc", (long) rows * dw.nPad() * 4);
            // column-major accᵀ (nPad×rows) = W (stored kPad×nPad, T) · q (stored kPad×rows with ld ldq, N)
            lt.matmul(new CublasLt.Shape(CublasLt.R_8I, CublasLt.R_32I, CublasLt.COMPUTE_32I, true, false, dw.nPad(), rows,
                    dw.kPad(), dw.kPad(), x.ldq(), dw.nPad(), 1, 0, 0, 0, false), dw.q(), qp, acc, 0);
            long total = (long) rows * n;
            device.launch("w8a8_epilogue", c.grid(total), 256, 0, acc, dw.nPad(), rows, n, sx, sums, dw.scales(), dw.zeros(),
                    c.in(bias, n * 4L), c.out(out, total * 4));
        }
    }

    /** The weight as plain int8 rows (k padded to 16, n to 4, with zeros: cuBLASLt's int8 kernels need both). */
    private W8 upload(DeviceCall c, PackedInt8Weight w) {
        int n = w.n(), k = w.k();
        int kPad = (k + 15) / 16 * 16, nPad = (n + 3) / 4 * 4;
        byte[] q = new byte[nPad * kPad];
        float[] scales = new float[n];
        int[] zeros = new int[n];
        boolean asymmetric = false;
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < k; i++) q[r * kPad + i] = (byte) w.q(r, i);
            scales[r] = w.scale(r);
            zeros[r] = w.zeroPoint(r);
            asymmetric |= zeros[r] != 0;
        }
        long qp = memory.residentWeight(q.length);
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment host = arena.allocate(q.length);
            MemorySegment.copy(q, 0, host, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, q.length);
            device.copy(qp, host.address(), q.length);
        }
        long sp = memory.residentWeight(n * 4L);
        device.copy(sp, c.floats(scales), n * 4L);
        long zp = 0;
        if (asymmetric) {
            zp = memory.residentWeight(n * 4L);
            device.copy(zp, c.ints(zeros), n * 4L);
        }
        return new W8(qp, sp, zp, nPad, kPad);
    }

    @Override
    public void gemmW4A8(QuantizedActivations x, PackedInt4Weight w, MemorySegment bias, MemorySegment out) {
        if (w4Reported.compareAndSet(false, true)) {
            System.err.println("[viditq] W4A8 layers run on the CPU integer kernels (" + cpu.name() + "): no GPU int4 GEMM yet");
        }
        cpu.gemmW4A8(x, w, bias, out);
    }
}
