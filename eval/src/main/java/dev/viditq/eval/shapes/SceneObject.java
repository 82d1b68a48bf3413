package dev.viditq.eval.shapes;

/**
 * One object of a scene. ({@code x}, {@code y}) is the center of its bounding box in pixel coordinates at frame 0
 * (pixel column i spans [i, i+1), so the canvas spans [0, 32]); videos move it by {@code speed} pixels per frame
 * along {@code direction}. Images have neither direction nor speed.
 */
public record SceneObject(Shape shape, ObjectColor color, Size size, double x, double y,
                          Direction direction, Speed speed) {
    public SceneObject {
        if (shape == null || color == null || size == null) {
            throw new IllegalArgumentException("an object needs a shape, a color and a size");
        }
        if ((direction == null) != (speed == null)) {
            throw new IllegalArgumentException("a moving object needs both a direction and a speed");
        }
    }

    /** A still object, as in images. */
    public static SceneObject still(Shape shape, ObjectColor color, Size size, double x, double y) {
        return new SceneObject(shape, color, size, x, y, null, null);
    }

    public boolean moving() {
        return direction != null;
    }

    public double xAt(int frame) {
        return moving() ? x + direction.dx() * speed.pixelsPerFrame() * frame : x;
    }

    public double yAt(int frame) {
        return moving() ? y + direction.dy() * speed.pixelsPerFrame() * frame : y;
    }

    /** The grid cell of the center at frame 0 (for a video: where the object starts). */
    public Position position() {
        return Position.at(x, y);
    }

    /** This object frozen where it is at {@code frame}. */
    public SceneObject stillAt(int frame) {
        return still(shape, color, size, xAt(frame), yAt(frame));
    }

    public double radius() {
        return size.diameter() / 2.0;
    }
}
