package dev.viditq.bench.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class OnnxGraphTest {
    /** Attributes are written in name order whatever order the map iterates in, so an export is the same file each time. */
    @Test
    void attributesAreWrittenInNameOrder(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("g.onnx");
        try (OnnxGraph g = new OnnxGraph(file, "order")) {
            String x = g.input("x", DataType.FLOAT, 2L, 3L);
            Map<String, Object> reversed = new LinkedHashMap<>();
            reversed.put("num_outputs", 1L);
            reversed.put("axis", 1L);
            String[] y = g.opN("Split", "", List.of(x), 1, reversed);
            g.identity(y[0], "y");
            g.output("y", DataType.FLOAT, 2L, 3L);
            g.save("test");
        }
        OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(file));
        OnnxMl.NodeProto split = model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Split")).findFirst().orElseThrow();
        assertEquals(List.of("axis", "num_outputs"), split.getAttributeList().stream().map(OnnxMl.AttributeProto::getName).toList());
    }
}
