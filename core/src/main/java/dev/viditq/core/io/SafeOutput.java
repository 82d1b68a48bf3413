package dev.viditq.core.io;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every file and folder a command writes goes through here, so that outputs never clobber what they should not and
 * never leave half-written files behind:
 * <ul>
 *   <li><b>What may be written.</b> A new path, or an existing regular file (replaced atomically) or folder. An
 *       existing device, FIFO, socket or symbolic link is refused unless the user said {@code --force} (then a
 *       device or FIFO is written into in place, and a link is followed to its target) — writing "through" a rename
 *       would otherwise replace {@code /dev/full} by a regular file.</li>
 *   <li><b>Checked first.</b> Commands call {@link #checkFile} / {@link #checkFolder} before any work, which also
 *       proves the location writable by creating (and removing) a probe file there.</li>
 *   <li><b>Atomic, cleaned up.</b> {@link #begin} gives a temporary path beside the target, named
 *       {@code .NAME.<pid>-<random>.viditq-tmp}; {@link Pending#commit()} renames it over the target; closing an
 *       uncommitted one deletes it, and so does a shutdown hook when the JVM is interrupted (Ctrl-C, SIGTERM).</li>
 *   <li><b>Swept.</b> A run killed outright (SIGKILL, power loss) leaves its temporary behind: the next check of the
 *       same folder deletes every temporary whose process is gone (the pid in the name), plus the unmarked ones that
 *       earlier versions left for the same target.</li>
 * </ul>
 */
public final class SafeOutput {
    private static final String SUFFIX = ".viditq-tmp";
    /** {@code .NAME.<pid>-<random>.viditq-tmp}: the pid tells the sweeper whether the writer may still be running. */
    private static final Pattern TEMP = Pattern.compile("\\..*\\.(\\d+)-[0-9a-f]+" + Pattern.quote(SUFFIX));
    /** Targets the user forced (special files and links allowed); filled by the checks, read by {@link #begin}. */
    private static final Set<Path> FORCED = ConcurrentHashMap.newKeySet();
    /** Temporaries not yet committed or removed, deleted by the shutdown hook. */
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(SafeOutput::deleteTree), "viditq-temp-cleanup"));
    }

    private SafeOutput() {}

    /** An output that cannot or may not be written; its message names the path and the way out. */
    public static final class RefusedException extends IllegalArgumentException {
        RefusedException(Path path, String problem) {
            super(path + ": " + problem);
        }
    }

    // ------------------------------------------------------------------ checks before the work

    /**
     * Checks, before any work, that {@code target} may be written as a file: refuses a folder, and a device, FIFO,
     * socket or symbolic link unless {@code force}; proves its folder writable; sweeps stale temporaries beside it.
     */
    public static void checkFile(Path target, boolean force) {
        Path file = target.toAbsolutePath().normalize();
        if (file.getFileName() == null) throw new RefusedException(target, "is not a file name");
        if (!force) FORCED.remove(file); // an earlier command of this process may have forced it
        Kind kind = Kind.of(file);
        switch (kind) {
            case MISSING, REGULAR -> { }
            case DIRECTORY -> throw new RefusedException(target, "is a directory; give the output file's name");
            case LINK, SPECIAL -> {
                if (!force) throw new RefusedException(target, "is " + describe(file) + "; refusing to replace it "
                        + (kind == Kind.LINK ? "(--force writes to the file it points to)" : "(--force writes into it)"));
                FORCED.add(file);
                Path real = followLinks(file);
                if (Kind.of(real) == Kind.DIRECTORY) throw new RefusedException(target, "leads to the folder " + real);
                if (Kind.of(real) == Kind.SPECIAL) {
                    if (!Files.isWritable(real)) throw new RefusedException(target, "is not writable");
                    return;
                }
                file = real;
            }
        }
        requireWritableFolder(target, file.getParent());
        sweep(file.getParent(), file.getFileName().toString());
    }

    /**
     * Checks, before any work, that {@code target} may be written as a folder: an existing file, device or FIFO is
     * refused; a link to a folder is written into, but when {@code replaced} (the whole folder is swapped for a new
     * one) a link is refused unless {@code force}. Proves the location writable; sweeps stale temporaries in and
     * beside it.
     */
    public static void checkFolder(Path target, boolean force, boolean replaced) {
        Path folder = target.toAbsolutePath().normalize();
        if (!force) FORCED.remove(folder);
        Kind kind = Kind.of(folder);
        if (kind == Kind.LINK) {
            if (replaced && !force) {
                throw new RefusedException(target, "is " + describe(folder) + "; refusing to replace it (--force replaces the folder it points to)");
            }
            if (replaced) FORCED.add(folder);
            if (!replaced && Kind.of(followLinks(folder)) != Kind.DIRECTORY) {
                throw new RefusedException(target, "is " + describe(folder) + ", not a folder");
            }
        } else if (kind == Kind.REGULAR || kind == Kind.SPECIAL) {
            throw new RefusedException(target, "is " + describe(folder) + ", not a folder");
        }
        if (folder.getParent() != null) {
            requireWritableFolder(target, folder.getParent());
            sweep(folder.getParent(), folder.getFileName().toString());
        }
        if (kind == Kind.DIRECTORY || (kind == Kind.LINK && !replaced)) {
            requireWritableFolder(target, folder);
            sweep(folder, null);
        }
    }

    /** The nearest existing ancestor of {@code dir} must be a folder in which a file can be created. */
    private static void requireWritableFolder(Path target, Path dir) {
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) throw new RefusedException(target, "no part of its folder exists");
        if (!Files.isDirectory(existing)) throw new RefusedException(target, "cannot be created: " + existing + " is not a folder");
        Path probe = existing.resolve(tempName("probe"));
        try {
            Files.createFile(probe);
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new RefusedException(target, "cannot be written: creating a file in " + existing + " fails ("
                    + reason(e) + ")");
        }
    }

    // ------------------------------------------------------------------ writing

    /** A temporary path beside a target, made final by {@link #commit()} or removed by {@link #close()}. */
    public static final class Pending implements AutoCloseable {
        private final Path path;
        private final Path target;
        private boolean done;

        private Pending(Path path, Path target) {
            this.path = path;
            this.target = target;
            if (path != target) LIVE.add(path);
        }

        /** Where to write: a temporary beside the target, or the target itself when it is a forced device or FIFO. */
        public Path path() {
            return path;
        }

        /** The path the output ends up at (a forced link followed to its target). */
        public Path target() {
            return target;
        }

        /** False when {@link #path()} is the target itself (a forced device or FIFO, written in place). */
        public boolean isTemporary() {
            return path != target;
        }

        /** Renames the temporary over the target (atomically, on one file system). */
        public void commit() throws IOException {
            if (path != target) {
                Files.move(path, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                LIVE.remove(path);
            }
            done = true;
        }

        @Override
        public void close() {
            if (!done && path != target) {
                deleteTree(path);
                LIVE.remove(path);
            }
        }
    }

    /**
     * Starts writing {@code target}: refuses a device, FIFO, socket or link that {@link #checkFile} did not see forced,
     * creates the missing folders and returns the temporary to write. A folder target (quantized models) gets a
     * temporary folder the same way.
     */
    public static Pending begin(Path target) throws IOException {
        Path file = target.toAbsolutePath().normalize();
        Kind kind = Kind.of(file);
        if (kind == Kind.LINK || kind == Kind.SPECIAL) {
            if (!FORCED.contains(file)) {
                throw new RefusedException(target, "is " + describe(file) + "; refusing to replace it (--force writes "
                        + (kind == Kind.LINK ? "to the file it points to)" : "into it)"));
            }
            file = followLinks(file);
            if (Kind.of(file) == Kind.SPECIAL) return new Pending(file, file);
        }
        Files.createDirectories(file.getParent());
        return new Pending(file.resolveSibling(tempName(file.getFileName().toString())), file);
    }

    /** What writes an output into the path it is given. */
    @FunctionalInterface
    public interface Writer {
        void write(Path path) throws IOException;
    }

    /** Writes {@code target} through a temporary ({@link #begin}): complete or not at all. */
    public static void write(Path target, Writer writer) throws IOException {
        try (Pending p = begin(target)) {
            writer.write(p.path());
            p.commit();
        }
    }

    /** A temporary name beside {@code name}, marked with this process's id. */
    public static String tempName(String name) {
        return "." + name + "." + ProcessHandle.current().pid() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + SUFFIX;
    }

    // ------------------------------------------------------------------ sweeping

    /**
     * Deletes the temporaries in {@code dir} whose process is gone and, when {@code target} names a file or folder
     * of {@code dir}, the unmarked ones earlier versions left for it ({@code .TARGET.<uuid>.tmp},
     * {@code .TARGET.tmp-<uuid>}, {@code .TARGET.old-<uuid>}, {@code .TARGET<digits>.tmp}).
     */
    public static void sweep(Path dir, String target) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, ".*")) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (isStale(name) || (target != null && isLegacyTemp(name, target))) deleteTree(p);
            }
        } catch (IOException | SecurityException ignored) {
            // sweeping is housekeeping: a folder that cannot be listed is reported by the write itself
        }
    }

    private static final String UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    private static final Pattern LEGACY = Pattern.compile("\\.(" + UUID + "\\.tmp|(tmp|old)-" + UUID + ")|-?\\d{6,}\\.(tmp|raw)");

    /** A temporary of this format whose process is no longer running. */
    static boolean isStale(String name) {
        Matcher m = TEMP.matcher(name);
        if (!m.matches()) return false;
        try {
            return ProcessHandle.of(Long.parseLong(m.group(1))).map(ph -> !ph.isAlive()).orElse(true);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    static boolean isLegacyTemp(String name, String target) {
        String prefix = "." + target;
        return name.startsWith(prefix) && LEGACY.matcher(name.substring(prefix.length())).matches();
    }

    // ------------------------------------------------------------------ file kinds

    private enum Kind {
        MISSING, REGULAR, DIRECTORY, LINK, SPECIAL;

        static Kind of(Path p) {
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return MISSING;
            } catch (IOException e) {
                throw new RefusedException(p, "cannot be inspected (" + reason(e) + ")");
            }
            if (a.isSymbolicLink()) return LINK;
            if (a.isDirectory()) return DIRECTORY;
            return a.isRegularFile() ? REGULAR : SPECIAL;
        }
    }

    private static String describe(Path p) {
        return switch (Kind.of(p)) {
            case LINK -> "a symbolic link";
            case REGULAR -> "a regular file";
            case DIRECTORY -> "a folder";
            case MISSING -> "missing";
            case SPECIAL -> specialKind(p);
        };
    }

    /** "a character device", "a FIFO", ... as {@code stat} tells (the JDK's attributes only say "other"). */
    private static String specialKind(Path p) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return switch (mode & 0xF000) {
                case 0x2000 -> "a character device";
                case 0x6000 -> "a block device";
                case 0x1000 -> "a FIFO (named pipe)";
                case 0xC000 -> "a socket";
                default -> "not a regular file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return "not a regular file";
        }
    }

    private static Path followLinks(Path p) {
        Path at = p;
        for (int hops = 0; hops < 40 && Files.isSymbolicLink(at); hops++) {
            try {
                at = at.resolveSibling(Files.readSymbolicLink(at)).toAbsolutePath().normalize();
            } catch (IOException e) {
                throw new RefusedException(p, "is a link that cannot be read (" + reason(e) + ")");
            }
        }
        if (Files.isSymbolicLink(at)) throw new RefusedException(p, "is a chain of more than 40 links");
        return at;
    }

    private static String reason(Exception e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof NoSuchFileException) return "the folder takes no new files";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** Deletes a file or a folder tree, best effort (not following links). */
    public static void deleteTree(Path p) {
        try (Stream<Path> walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(q -> {
                try {
                    Files.deleteIfExists(q);
                } catch (IOException ignored) {
                    // best effort: what is left is hidden and swept on a later run
                }
            });
        } catch (IOException | RuntimeException ignored) {
            // as above
        }
    }
}
