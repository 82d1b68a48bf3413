package dev.viditq.core.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.*;

/**
 * A data-only reader of Python pickles (protocols 2 to 5, binary opcodes), enough for what {@code torch.save}
 * writes. It never runs anything: GLOBAL asks the {@link Resolver} for a stand-in object (the resolver refuses
 * names it does not know), and REDUCE / NEWOBJ / BUILD / persistent ids are handed to the resolver too.
 *
 * <p>Values: None is {@code null}, bool {@link Boolean}, int {@link Long} (or {@link BigInteger} when larger),
 * float {@link Double}, str {@link String}, bytes {@code byte[]}, list and set {@link ArrayList}, tuple an
 * unmodifiable {@link List}, dict {@link LinkedHashMap}. Dict keys that are not scalars are wrapped in
 * {@link IdentityKey} so that hashing never walks (possibly cyclic) containers.
 *
 * <p>Errors are {@link CheckpointException}s naming the file, the pickle and the byte offset. Nothing in here
 * recurses over the data, so hostile input cannot overflow the stack. Work and memory are budgeted
 * ({@link #charge}): every opcode, every element copied (a memoized list handed to {@code set()} a million times is
 * copied a million times) and every byte read costs units, bounded by {@value #UNITS_PER_BYTE} per byte of the
 * pickle and by a quarter of the heap at {@value #BYTES_PER_UNIT} bytes a unit. A 1.6 KB pickle that would copy
 * shared structures into billions of elements therefore ends in a named error within milliseconds, and unpickling
 * stays linear in the pickle's size.
 */
final class Unpickler {
    /** Supplies the meaning of globals, calls and persistent ids; everything it does must be inert. */
    interface Resolver {
        /** The stand-in for {@code module.name}; throws {@link CheckpointException} for a name not allowed. */
        Object global(String module, String name);

        /** REDUCE: {@code callable(*args)}; NEWOBJ: {@code cls.__new__(cls, *args)}. */
        Object call(Object callable, List<Object> args);

        /** BINPERSID: the object for a persistent id. */
        Object persistentLoad(Object pid);

        /** BUILD: applies {@code state} to {@code obj} and returns it. */
        Object build(Object obj, Object state);
    }

    /** A non-scalar dict key, compared by identity (Python would hash a tuple; state dicts never use one). */
    record IdentityKey(Object value) {
        @Override public boolean equals(Object o) { return o instanceof IdentityKey k && k.value == value; }
        @Override public int hashCode() { return System.identityHashCode(value); }
        @Override public String toString() { return "<" + typeName(value) + " key>"; }
    }

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_BE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final Path file;
    private final String what;
    private final MemorySegment data;
    private final Resolver resolver;
    private long pos;
    private long opStart;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayDeque<Integer> marks = new ArrayDeque<>();
    private final HashMap<Long, Object> memo = new HashMap<>();
    /** Budget units: generous for state dicts (HostileCheckpointTest holds torch's own pickles below 8 units a byte). */
    static final long UNITS_PER_BYTE = 64, BASE_UNITS = 1 << 20, BYTES_PER_UNIT = 8;
    private final long maxUnits;
    private final boolean heapBound;
    private long units;

    /** Reads the pickle in {@code data} starting at {@code start}; {@code what} names it in errors (e.g. "data.pkl"). */
    Unpickler(Path file, String what, MemorySegment data, long start, Resolver resolver) {
        this.file = file;
        this.what = what;
        this.data = data;
        this.pos = start;
        this.resolver = resolver;
        long bySize = Math.multiplyExact(UNITS_PER_BYTE, data.byteSize() - start) + BASE_UNITS;
        long byHeap = MemoryBudget.heapBytes() / 4 / BYTES_PER_UNIT;
        this.maxUnits = Math.min(bySize, byHeap);
        this.heapBound = byHeap < bySize;
    }

    /** Budget units spent so far (for tests measuring real pickles against the budget). */
    long unitsSpent() {
        return units;
    }

    /** The byte after the STOP of the last pickle loaded. */
    long position() {
        return pos;
    }

    /** Runs opcodes up to STOP and returns the pickled object. */
    Object load() {
        stack.clear();
        marks.clear();
        memo.clear();
        try {
            while (true) {
                opStart = pos;
                charge(1);
                int op = u8();
                if (op == '.') return pop();
                step(op);
            }
        } catch (CheckpointException e) {
            throw e;
        } catch (RuntimeException e) { // a resolver's unchecked surprise on hostile input: report, never leak it
            throw error(e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
    }

    private void step(int op) {
        switch (op) {
            case 0x80 -> { // PROTO
                int proto = u8();
                if (proto > 5) throw error("pickle protocol " + proto + " is newer than 5");
            }
            case 0x95 -> skip(8); // FRAME: a length hint only
            case '(' -> marks.push(stack.size()); // MARK
            case '0' -> pop(); // POP
            case '1' -> popMark(); // POP_MARK
            case '2' -> push(peek()); // DUP
            case 'N' -> push(null);
            case 0x88 -> push(Boolean.TRUE);
            case 0x89 -> push(Boolean.FALSE);
            case 'J' -> push((long) readI32()); // BININT
            case 'K' -> push((long) u8()); // BININT1
            case 'M' -> push((long) u16()); // BININT2
            case 0x8a -> push(readLong(u8())); // LONG1
            case 0x8b -> push(readLong(nonNegative(readI32()))); // LONG4
            case 'G' -> push(readDouble()); // BINFLOAT
            case 'X' -> push(readString(u32(), true)); // BINUNICODE
            case 0x8c -> push(readString(u8(), true)); // SHORT_BINUNICODE
            case 0x8d -> push(readString(readI64Length(), true)); // BINUNICODE8
            case 'T' -> push(readString(nonNegative(readI32()), false)); // BINSTRING (Python 2 str)
            case 'U' -> push(readString(u8(), false)); // SHORT_BINSTRING
            case 'B' -> push(readBytes(u32())); // BINBYTES
            case 'C' -> push(readBytes(u8())); // SHORT_BINBYTES
            case 0x8e, 0x96 -> push(readBytes(readI64Length())); // BINBYTES8, BYTEARRAY8
            case ')' -> push(tuple(List.of())); // EMPTY_TUPLE
            case 't' -> push(tuple(popMark())); // TUPLE
            case 0x85 -> push(tuple(popN(1))); // TUPLE1
            case 0x86 -> push(tuple(popN(2))); // TUPLE2
            case 0x87 -> push(tuple(popN(3))); // TUPLE3
            case ']', 0x8f -> push(new ArrayList<>()); // EMPTY_LIST, EMPTY_SET
            case 'l' -> push(copy(popMark())); // LIST
            case 0x91 -> push(tuple(popMark())); // FROZENSET
            case 'a' -> { Object v = pop(); list(peek(), "APPEND").add(v); }
            case 'e', 0x90 -> { List<Object> items = popMark(); list(peek(), "APPENDS").addAll(copy(items)); } // APPENDS, ADDITEMS
            case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
            case 'd' -> { Map<Object, Object> m = new LinkedHashMap<>(); putAll(m, popMark()); push(m); } // DICT
            case 's' -> { Object v = pop(), k = pop(); charge(MAP_ENTRY_UNITS); dict(peek()).put(key(k), v); } // SETITEM
            case 'u' -> { List<Object> items = popMark(); putAll(dict(peek()), items); } // SETITEMS
            case 'c' -> push(resolver.global(readLine(), readLine())); // GLOBAL
            case 0x93 -> { Object name = pop(), module = pop(); push(resolver.global(str(module), str(name))); } // STACK_GLOBAL
            case 'R' -> { Object args = pop(), fn = pop(); push(call(fn, args)); } // REDUCE
            case 0x81 -> { Object args = pop(), cls = pop(); push(call(cls, args)); } // NEWOBJ
            case 0x92 -> { pop(); Object args = pop(), cls = pop(); push(call(cls, args)); } // NEWOBJ_EX (kwargs dropped)
            case 'b' -> { Object state = pop(); push(resolver.build(pop(), state)); } // BUILD
            case 'Q' -> push(resolver.persistentLoad(pop())); // BINPERSID
            case 'q' -> memoPut(u8()); // BINPUT
            case 'r' -> memoPut(u32()); // LONG_BINPUT
            case 0x94 -> memoPut(memo.size()); // MEMOIZE
            case 'h' -> push(memoGet(u8())); // BINGET
            case 'j' -> push(memoGet(u32())); // LONG_BINGET
            default -> throw error(String.format("unsupported pickle opcode 0x%02x", op));
        }
    }

    // ---- stack ----

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) throw error("stack underflow (corrupt pickle)");
        return stack.removeLast();
    }

    private Object peek() {
        if (stack.isEmpty()) throw error("stack underflow (corrupt pickle)");
        return stack.getLast();
    }

    private List<Object> popN(int n) {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop();
        return Arrays.asList(items);
    }

    /** Everything pushed since the last MARK, which is removed. */
    private List<Object> popMark() {
        if (marks.isEmpty()) throw error("no MARK on the stack (corrupt pickle)");
        int from = marks.pop();
        List<Object> top = stack.subList(from, stack.size());
        charge(top.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private void memoPut(long index) {
        charge(MAP_ENTRY_UNITS);
        memo.put(index, peek());
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) throw error("memo entry " + index + " was never stored (corrupt pickle)");
        return memo.get(index);
    }

    // ---- budget ----

    /** Units of a hash map entry (~48 bytes). */
    private static final int MAP_ENTRY_UNITS = 6;
    /** How deep the resolver may look into call arguments (and copy what it finds), for {@link #call}. */
    private static final int RESOLVER_DEPTH = 3;

    /** Counts {@code n} units of work and memory; throws once the budget is spent. */
    private void charge(long n) {
        units += n;
        if (units > maxUnits) {
            throw error(heapBound
                    ? "unpickling would hold more than " + MemoryBudget.human(maxUnits * BYTES_PER_UNIT) + " of objects, a quarter"
                            + " of the " + MemoryBudget.human(MemoryBudget.heapBytes()) + " heap (-Xmx)"
                    : "unpickling takes more than " + maxUnits + " steps for a pickle of " + (data.byteSize()) + " bytes"
                            + " (structures shared through the memo are expanded again and again): refused as hostile");
        }
    }

    private ArrayList<Object> copy(List<Object> items) {
        charge(items.size());
        return new ArrayList<>(items);
    }

    /** REDUCE / NEWOBJ: the resolver may copy list arguments (and lists inside them), so their sizes are charged. */
    private Object call(Object callable, Object args) {
        List<Object> list = tupleArgs(args);
        chargeNested(list, RESOLVER_DEPTH);
        return resolver.call(callable, list);
    }

    /** Charges the sizes of {@code o}'s containers down to {@code depth} levels, stopping as soon as the budget is spent. */
    private void chargeNested(Object o, int depth) {
        if (depth <= 0) return;
        if (o instanceof Map<?, ?> m) charge(m.size());
        if (!(o instanceof Collection<?> c)) return;
        charge(c.size());
        if (depth > 1) for (Object e : c) chargeNested(e, depth - 1);
    }

    // ---- typed access ----

    private List<Object> tuple(List<Object> items) {
        return Collections.unmodifiableList(copy(items));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, String op) {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw error(op + " to " + typeName(o) + ", expected a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o) {
        if (o instanceof Map<?, ?> m) return (Map<Object, Object>) m;
        throw error("setting items on " + typeName(o) + ", expected a dict");
    }

    private void putAll(Map<Object, Object> m, List<Object> kv) {
        if (kv.size() % 2 != 0) throw error("odd number of items for a dict");
        charge((long) kv.size() / 2 * MAP_ENTRY_UNITS);
        for (int i = 0; i < kv.size(); i += 2) m.put(key(kv.get(i)), kv.get(i + 1));
    }

    private static Object key(Object k) {
        boolean scalar = k == null || k instanceof String || k instanceof Long || k instanceof Boolean
                || k instanceof Double || k instanceof BigInteger;
        return scalar ? k : new IdentityKey(k);
    }

    @SuppressWarnings("unchecked")
    private List<Object> tupleArgs(Object args) {
        if (args instanceof List<?> l) return tuple((List<Object>) l);
        throw error("call arguments are " + typeName(args) + ", expected a tuple");
    }

    private String str(Object o) {
        if (o instanceof String s) return s;
        throw error("global name is " + typeName(o) + ", expected a str");
    }

    /** A short type name for error messages; never prints the value (it may be huge or cyclic). */
    static String typeName(Object o) {
        return o == null ? "None" : o instanceof List<?> ? "list/tuple" : o instanceof Map<?, ?> ? "dict"
                : o instanceof byte[] ? "bytes" : o.getClass().getSimpleName();
    }

    // ---- bytes ----

    private void need(long n) {
        if (n < 0 || n > data.byteSize() - pos) {
            throw error("pickle ends early: " + n + " more bytes needed, " + (data.byteSize() - pos) + " left (truncated?)");
        }
    }

    private void skip(long n) {
        need(n);
        pos += n;
    }

    private int u8() {
        need(1);
        return data.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
    }

    private int u16() {
        need(2);
        int v = data.get(U16, pos) & 0xFFFF;
        pos += 2;
        return v;
    }

    private int readI32() {
        need(4);
        int v = data.get(I32, pos);
        pos += 4;
        return v;
    }

    private long u32() {
        return readI32() & 0xFFFFFFFFL;
    }

    private long readI64Length() {
        need(8);
        long v = data.get(I64, pos);
        pos += 8;
        return nonNegative(v);
    }

    private long nonNegative(long n) {
        if (n < 0) throw error("negative length " + n);
        return n;
    }

    private double readDouble() {
        need(8);
        double v = data.get(F64_BE, pos);
        pos += 8;
        return v;
    }

    /** LONG1/LONG4: little-endian two's complement of {@code n} bytes. */
    private Object readLong(long n) {
        byte[] le = readBytes(n);
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private byte[] readBytes(long n) {
        need(n);
        if (n > Integer.MAX_VALUE - 8) throw error("a " + n + "-byte string is too large");
        charge(n / BYTES_PER_UNIT + 1);
        byte[] b = data.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return b;
    }

    private String readString(long n, boolean utf8) {
        return new String(readBytes(n), utf8 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    }

    /** A newline-terminated ASCII line (GLOBAL's module and name). */
    private String readLine() {
        long start = pos;
        long limit = Math.min(data.byteSize(), start + 1024);
        for (long i = start; i < limit; i++) {
            if (data.get(ValueLayout.JAVA_BYTE, i) == '\n') {
                String s = new String(data.asSlice(start, i - start).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                pos = i + 1;
                return s;
            }
        }
        throw error("unterminated GLOBAL name");
    }

    private CheckpointException error(String problem) {
        return new CheckpointException(file, "malformed pickle " + what + " at byte " + opStart + ": " + problem);
    }
}
