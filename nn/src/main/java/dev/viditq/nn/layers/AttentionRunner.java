package dev.viditq.nn.layers;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.parallel.Parallel;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@link Kernels#attention} over many independent (query block, key sequence) pairs in parallel, reading
 * q/k/v in place from projection buffers through row strides (a fused qkv buffer, or tokens of one sequence
 * spread over the rows of a video activation). Long query sequences are split into blocks so that a batch of two
 * images still keeps every core busy.
 */
final class AttentionRunner {
    /** Query rows per task: large enough to amortise a task, small enough to balance 2-16 threads. */
    private static final int QUERY_BLOCK = 128;

    /** A matrix of rows inside a buffer: row r starts at float {@code offset + r·rowWidth}. */
    record View(MemorySegment data, long offset, int rowWidth) {
        MemorySegment from(long row) {
            return data.asSlice((offset + row * rowWidth) * Float.BYTES);
        }
    }

    /** One attention problem: {@code lq} queries from row {@code qRow} by {@code qStep}, keys likewise. */
    record Task(long qRow, int qStep, int lq, long kRow, int kStep, int lk, AttentionBias bias) {}

    private AttentionRunner() {}

    /** Splits a query sequence into blocks, all attending to the same keys. */
    static void addBlocks(List<Task> tasks, long qRow, int qStep, int lq, long kRow, int kStep, int lk, AttentionBias bias) {
        for (int start = 0; start < lq; start += QUERY_BLOCK) {
            int n = Math.min(QUERY_BLOCK, lq - start);
            tasks.add(new Task(qRow + (long) start * qStep, qStep, n, kRow, kStep, lk, bias));
        }
    }

    static void run(List<Task> tasks, View q, View k, View v, View out, int heads, int headDim) {
        Kernels kernels = KernelBackend.get();
        float scale = (float) (1.0 / Math.sqrt(headDim));
        Parallel.forEach(tasks.size(), i -> {
            Task t = tasks.get(i);
            kernels.attention(q.from(t.qRow()), t.qStep() * q.rowWidth(), k.from(t.kRow()), t.kStep() * k.rowWidth(),
                    v.from(t.kRow()), t.kStep() * v.rowWidth(), out.from(t.qRow()), t.qStep() * out.rowWidth(),
                    t.lq(), t.lk(), heads, headDim, scale, t.bias());
        });
    }

    /** Self-attention tasks: each sequence attends to itself. */
    static List<Task> selfTasks(Sequences seqs) {
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < seqs.count(); i++) {
            long first = seqs.first(i);
            addBlocks(tasks, first, seqs.step(), seqs.length(), first, seqs.step(), seqs.length(), AttentionBias.NONE);
        }
        return tasks;
    }
}
