package dev.viditq.eval.shapes;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ShapeTest {
    @Test
    void spansAgreeWithContainsAwayFromEdges() {
        Random r = new Random(1);
        double[] spans = new double[4];
        for (Shape s : Shape.values()) {
            for (int i = 0; i < 20_000; i++) {
                double u = r.nextDouble() * 2.4 - 1.2, v = r.nextDouble() * 2.4 - 1.2;
                int n = s.spans(v, spans);
                boolean inSpan = false;
                double nearestEdge = Double.MAX_VALUE;
                for (int k = 0; k < n; k++) {
                    inSpan |= u >= spans[2 * k] && u <= spans[2 * k + 1];
                    nearestEdge = Math.min(nearestEdge, Math.min(Math.abs(u - spans[2 * k]), Math.abs(u - spans[2 * k + 1])));
                }
                if (nearestEdge < 1e-9) continue;
                assertEquals(s.contains(u, v), inSpan, s + " at (" + u + ", " + v + ")");
            }
        }
    }

    @Test
    void everyShapeFitsItsBoxAndTouchesAllFourSides() {
        double[] spans = new double[4];
        for (Shape s : Shape.values()) {
            double minU = 9, maxU = -9, minV = 9, maxV = -9;
            for (int i = 0; i <= 2000; i++) {
                double v = -1 + i / 1000.0;
                int n = s.spans(v, spans);
                for (int k = 0; k < n; k++) {
                    minU = Math.min(minU, spans[2 * k]);
                    maxU = Math.max(maxU, spans[2 * k + 1]);
                    if (spans[2 * k + 1] > spans[2 * k]) {
                        minV = Math.min(minV, v);
                        maxV = Math.max(maxV, v);
                    }
                }
            }
            assertEquals(-1, minU, 0.05, s + " left");
            assertEquals(1, maxU, 0.05, s + " right");
            assertEquals(-1, minV, 0.05, s + " top");
            assertEquals(1, maxV, 0.05, s + " bottom");
        }
    }
}
