package dev.viditq.eval.shapes;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RendererTest {
    @Test
    void pixelAlignedSquareCoversWholePixelsExactly() {
        float[] cover = new float[32 * 32];
        Renderer.coverage(Shape.SQUARE, 10, 12, 8, cover, 32, 32); // spans x 6..14, y 8..16
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                boolean inside = x >= 6 && x < 14 && y >= 8 && y < 16;
                assertEquals(inside ? 1f : 0f, cover[y * 32 + x], "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void coveredAreaMatchesTheShapeArea() {
        double[] unitArea = {Math.PI / 4, 1, 0.5, 0.5, 2 * Shape.CROSS_ARM - Shape.CROSS_ARM * Shape.CROSS_ARM,
                Math.PI / 4 * (1 - Shape.RING_HOLE * Shape.RING_HOLE)};
        for (Shape s : Shape.values()) {
            float[] cover = new float[32 * 32];
            Renderer.coverage(s, 15.3, 16.7, 14, cover, 32, 32);
            double area = 0;
            for (float c : cover) area += c;
            assertEquals(unitArea[s.ordinal()] * 14 * 14, area, 0.03 * 14 * 14, s.toString());
        }
    }

    @Test
    void clipsAtTheCanvasEdge() {
        float[] cover = new float[32 * 32];
        Renderer.coverage(Shape.CIRCLE, 0, 0, 14, cover, 32, 32);
        double area = 0;
        for (float c : cover) area += c;
        assertEquals(Math.PI * 49 / 4, area, 2.0, "a quarter of the disc is on the canvas");
    }

    @Test
    void renderingIsAPureFunctionOfTheScene() {
        Scene scene = ShapesGenerator.train(Kind.VIDEO, 3, 7).scene();
        byte[] a = new byte[16 * 3072], b = new byte[16 * 3072];
        Renderer.renderU8(scene, a, 0);
        Renderer.renderU8(new Scene(scene.kind(), scene.background(), List.copyOf(scene.objects())), b, 0);
        assertArrayEquals(a, b);
    }

    @Test
    void backgroundIsExactAndObjectsKeepTheirColor() {
        Scene scene = new Scene(Kind.IMAGE, Background.DARK_BLUE,
                List.of(SceneObject.still(Shape.SQUARE, ObjectColor.ORANGE, Size.LARGE, 16, 16)));
        RgbImage img = Renderer.render(scene);
        assertArrayEquals(Background.DARK_BLUE.rgb01(), Segmenter.rgb(img, 0, 0));
        assertArrayEquals(ObjectColor.ORANGE.rgb01(), Segmenter.rgb(img, 16, 16));
        byte[] u8 = new byte[3072];
        img.toU8(u8, 0);
        int center = (16 * 32 + 16) * 3;
        assertArrayEquals(new int[]{255, 120, 0}, new int[]{u8[center] & 0xFF, u8[center + 1] & 0xFF, u8[center + 2] & 0xFF});
    }

    @Test
    void videoObjectsMoveByTheirSpeed() {
        SceneObject o = new SceneObject(Shape.CIRCLE, ObjectColor.RED, Size.SMALL, 20, 16, Direction.LEFT, Speed.FAST);
        Scene scene = new Scene(Kind.VIDEO, Background.BLACK, List.of(o));
        RgbVideo video = Renderer.renderVideo(scene);
        assertEquals(16, video.length());
        for (int t : new int[]{0, 5, 15}) {
            RgbImage expected = Renderer.render(new Scene(Kind.IMAGE, Background.BLACK,
                    List.of(SceneObject.still(Shape.CIRCLE, ObjectColor.RED, Size.SMALL, 20 - t, 16))));
            assertTrue(Arrays.equals(expected.data(), video.frame(t).data()), "frame " + t);
        }
    }
}
