package dev.viditq.eval.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.eval.shapes.Kind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The sweep's quality checks judged from a summary: each case a float alignment and four settings' (alignment, PSNR). */
class SweepTableTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
            // case; kind; float align; w8 align; w8 psnr; naive8 align; naive8 psnr; w4 align; w4 psnr; naive4 align; naive4 psnr; expected met (4 bars)
            "all met; image; 0.80; 0.795; 31.0; 0.70; 25.0; 0.75; 22.0; 0.60; 20.0; true,true,true,true",
            "alignment drop of 1.5 points; image; 0.80; 0.785; 35.0; 0.70; 25.0; 0.75; 22.0; 0.60; 20.0; false,true,true,true",
            "image PSNR under 30; image; 0.80; 0.80; 29.9; 0.70; 25.0; 0.75; 22.0; 0.60; 20.0; true,false,true,true",
            "video bar is 28 dB; video; 0.60; 0.60; 28.5; 0.50; 25.0; 0.55; 22.0; 0.50; 20.0; true,true,true,true",
            "naive W8A8 better PSNR; image; 0.80; 0.80; 31.0; 0.80; 32.0; 0.75; 22.0; 0.60; 20.0; true,true,false,true",
            "W4 higher PSNR but lower alignment; image; 0.80; 0.80; 31.0; 0.70; 25.0; 0.60; 22.0; 0.65; 20.0; true,true,true,false",
    })
    void barsAreJudgedFromTheMeasuredFigures(String name, String kind, double floatAlign, double w8a, double w8p, double n8a, double n8p,
                                             double w4a, double w4p, double n4a, double n4p, String expected) {
        List<ObjectNode> rows = new ArrayList<>();
        rows.add(row("float", floatAlign, Double.NaN));
        rows.add(row("naive-w8a8", n8a, n8p));
        rows.add(row("viditq-w8a8", w8a, w8p));
        rows.add(row("viditq-w4a8", w4a, w4p));
        rows.add(row("naive-w4a8", n4a, n4p));
        ObjectNode manifest = Sweep.JSON.createObjectNode().put("model", "m").put("model_sha256", "abc").put("count", 2).put("split", "eval");
        ObjectNode summary = SweepTable.summary(manifest, kind.equals("video") ? Kind.VIDEO : Kind.IMAGE, rows);
        JsonNode checks = summary.get("checks");
        String[] want = expected.split(",");
        assertEquals(want.length, checks.size(), checks.toString());
        for (int i = 0; i < want.length; i++) {
            assertEquals(Boolean.parseBoolean(want[i]), checks.get(i).get("met").asBoolean(), checks.get(i).toString());
        }
        String md = SweepTable.markdown(summary);
        long dataRows = md.lines().filter(l -> l.startsWith("| ") && !l.startsWith("| ---") && !l.startsWith("| setting") && !l.startsWith("| bar")).count();
        int temporalRows = kind.equals("video") ? 5 : 0;
        assertEquals(5 + 5 + temporalRows + 4, dataRows, "5 settings in the main, attribute (and temporal) tables, 4 bars:\n" + md);
        assertTrue(md.contains(want[0].equals("true") ? "| met |" : "| **missed** |"), md);
    }

    private static ObjectNode row(String setting, double alignment, double psnr) {
        ObjectNode r = Sweep.JSON.createObjectNode().put("setting", setting).put("alignment", alignment);
        if (Double.isNaN(psnr)) r.putNull("psnr");
        else r.put("psnr", psnr);
        r.putObject("alignment_by_attribute").put("shape", alignment).put("color", alignment);
        return r;
    }
}
