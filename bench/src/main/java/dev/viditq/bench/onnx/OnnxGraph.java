package dev.viditq.bench.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.viditq.core.io.SafeOutput;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds one ONNX model (the generated protobuf classes {@code ai.onnx.proto.OnnxMl}) and writes it with its large
 * initializers in an external data file beside it ({@code model.onnx.data}, offsets 4 KiB aligned so ONNX Runtime
 * can map them), which keeps the protobuf itself far below its 2 GB limit. Initializer bytes are streamed to the
 * data file as they are added: a 2.4 GB FP32 graph never sits in memory.
 *
 * <p>Node names and intermediate value names are generated ({@code prefix/OpType_n}); callers name only inputs,
 * outputs and initializers. Default domain opset {@link #OPSET}; {@code com.microsoft} ops may be used too.
 */
final class OnnxGraph implements AutoCloseable {
    /** LayerNormalization needs 17, Gelu with approximate="tanh" 20. */
    static final int OPSET = 20;
    static final String MICROSOFT = "com.microsoft";
    private static final long EXTERNAL_MIN_BYTES = 1024;
    private static final long ALIGN = 4096;

    private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder();
    private final Path target;
    private final SafeOutput.Pending dataOut;
    private final FileChannel data;
    private final String dataName;
    private long dataSize;
    private int counter;
    private boolean usesMicrosoft;

    /** @param target the .onnx file to write; the data file is {@code target + ".data"} */
    OnnxGraph(Path target, String graphName) {
        this.target = target.toAbsolutePath();
        this.dataName = target.getFileName() + ".data";
        graph.setName(graphName);
        try {
            dataOut = SafeOutput.begin(this.target.resolveSibling(dataName));
            data = FileChannel.open(dataOut.path(), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    // ---- graph inputs and outputs

    /** A graph input; a dimension is a Long (fixed) or a String (symbolic, e.g. "batch"). */
    String input(String name, TensorProto.DataType type, Object... dims) {
        graph.addInput(valueInfo(name, type, dims));
        return name;
    }

    void output(String name, TensorProto.DataType type, Object... dims) {
        graph.addOutput(valueInfo(name, type, dims));
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, TensorProto.DataType type, Object... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            OnnxMl.TensorShapeProto.Dimension.Builder dim = OnnxMl.TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) dim.setDimParam(s);
            else dim.setDimValue(((Number) d).longValue());
            shape.addDim(dim);
        }
        OnnxMl.TypeProto.Tensor.Builder tensor = OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape);
        return OnnxMl.ValueInfoProto.newBuilder().setName(name)
                .setType(OnnxMl.TypeProto.newBuilder().setTensorType(tensor)).build();
    }

    // ---- initializers

    /** A constant tensor of the given element type whose little-endian bytes are {@code bytes}. */
    String initializer(String name, TensorProto.DataType type, long[] dims, ByteBuffer bytes) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
        for (long d : dims) t.addDims(d);
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long length = b.remaining();
        if (length < EXTERNAL_MIN_BYTES) {
            t.setRawData(com.google.protobuf.ByteString.copyFrom(b));
        } else {
            long offset = appendData(b);
            t.setDataLocation(TensorProto.DataLocation.EXTERNAL);
            t.addExternalData(entry("location", dataName));
            t.addExternalData(entry("offset", Long.toString(offset)));
            t.addExternalData(entry("length", Long.toString(length)));
        }
        graph.addInitializer(t);
        return name;
    }

    /** An FP32 constant. */
    String floats(String name, float[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return initializer(name, TensorProto.DataType.FLOAT, dims, b);
    }

    /** An INT64 constant (shapes, axes). */
    String longs(String name, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return initializer(name, TensorProto.DataType.INT64, new long[]{values.length}, b);
    }

    /** An INT64 constant with a generated name. */
    String shape(long... values) {
        return longs("const/i64_" + (counter++), values);
    }

    /** A scalar FP32 constant with a generated name. */
    String scalar(float v) {
        return floats("const/f32_" + (counter++), new float[]{v});
    }

    private long appendData(ByteBuffer b) {
        try {
            long offset = (dataSize + ALIGN - 1) / ALIGN * ALIGN;
            if (offset > dataSize) {
                ByteBuffer pad = ByteBuffer.allocate((int) (offset - dataSize));
                data.position(dataSize);
                while (pad.hasRemaining()) data.write(pad);
            }
            data.position(offset);
            while (b.hasRemaining()) data.write(b);
            dataSize = data.position();
            return offset;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target.resolveSibling(dataName) + ": " + e.getMessage(), e);
        }
    }

    private static OnnxMl.StringStringEntryProto entry(String k, String v) {
        return OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    // ---- nodes

    /** A node of the default domain with one output; returns the output's (generated) name. */
    String op(String opType, List<String> inputs, Map<String, Object> attrs) {
        return opN(opType, "", inputs, 1, attrs)[0];
    }

    String op(String opType, String... inputs) {
        return op(opType, List.of(inputs), Map.of());
    }

    /** A node with {@code outputs} outputs in {@code domain} ("" = default); attribute values: Long, Float, String, long[]. */
    String[] opN(String opType, String domain, List<String> inputs, int outputs, Map<String, Object> attrs) {
        String nodeName = opType + "_" + (counter++);
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(nodeName).addAllInput(inputs);
        if (!domain.isEmpty()) {
            n.setDomain(domain);
            if (domain.equals(MICROSOFT)) usesMicrosoft = true;
        }
        String[] outs = new String[outputs];
        for (int i = 0; i < outputs; i++) {
            outs[i] = nodeName + ":" + i;
            n.addOutput(outs[i]);
        }
        // in name order: the Map.of maps the callers pass iterate in an order that changes from one JVM to the
        // next, and the same export should give the same file
        new TreeMap<>(attrs).forEach((k, v) -> n.addAttribute(attribute(k, v)));
        graph.addNode(n);
        return outs;
    }

    /** Renames a value to a graph output name by an Identity node. */
    void identity(String from, String outputName) {
        graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName("output/" + outputName).addInput(from).addOutput(outputName));
    }

    private static AttributeProto attribute(String name, Object v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        switch (v) {
            case Long l -> a.setType(AttributeProto.AttributeType.INT).setI(l);
            case Integer i -> a.setType(AttributeProto.AttributeType.INT).setI(i);
            case Float f -> a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
            case String s -> a.setType(AttributeProto.AttributeType.STRING).setS(com.google.protobuf.ByteString.copyFromUtf8(s));
            case long[] ls -> {
                a.setType(AttributeProto.AttributeType.INTS);
                for (long l : ls) a.addInts(l);
            }
            default -> throw new IllegalArgumentException("attribute " + name + ": unsupported value " + v);
        }
        return a.build();
    }

    // ---- writing

    /** Writes the model (and moves the data file into place). */
    void save(String producer) {
        OnnxMl.ModelProto.Builder model = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(9)
                .setProducerName(producer)
                .setGraph(graph)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        if (usesMicrosoft) model.addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain(MICROSOFT).setVersion(1));
        try {
            if (dataOut.isTemporary()) data.force(true);
            data.close();
            dataOut.commit();
            SafeOutput.write(target, tmp -> {
                try (OutputStream out = Files.newOutputStream(tmp)) {
                    model.build().writeTo(out);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /** Bytes of initializer data written to the external file so far. */
    long externalBytes() {
        return dataSize;
    }

    @Override
    public void close() {
        try {
            if (data.isOpen()) data.close();
            dataOut.close();
        } catch (IOException ignored) {
            // best effort cleanup after a failure
        }
    }
}
