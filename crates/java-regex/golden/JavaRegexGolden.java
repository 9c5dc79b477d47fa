/*
 * JavaRegexGolden: the source of truth for crates/java-regex (our Rust port of java.util.regex).
 *
 * What it does:
 *   1. Reads corpus.txt (patterns and inputs, format described at the top of that file) and,
 *      with the real java.util.regex, records per pattern: the compile verdict (and on failure
 *      PatternSyntaxException.getDescription()/getIndex()), matcher(input).matches() for every
 *      input, and for "f" inputs also the find() loop with group spans (UTF-16 indices),
 *      input.split(p) and input.replaceAll(p, r) for every "R" replacement.
 *      Output: crates/java-regex/golden/java-regex.json.
 *   2. Dumps the java.lang.Character data the engine needs (general categories, binary
 *      properties, scripts, blocks and their accepted names, simple case mappings, the
 *      grapheme-cluster break types of java.util.regex.Grapheme) into crates/java-regex/src/tables.rs,
 *      so the Rust engine uses exactly this JDK's Unicode version.
 *
 * How to rerun (from the repository root):   crates/java-regex/golden/generate.sh
 * (compiles this file with javac and runs it with the --add-opens flags it needs for the
 * reflective reads of Character.UnicodeBlock.map, Character.UnicodeScript.aliases and
 * java.util.regex.Grapheme.getType).
 */

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntPredicate;
import java.util.function.IntUnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

public final class JavaRegexGolden {

    static final class Case {
        String pattern;
        final List<String> matchInputs = new ArrayList<>();
        final List<String> findInputs = new ArrayList<>();
        final List<String> replacements = new ArrayList<>();
        int line;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: JavaRegexGolden corpus.txt out.json tables.rs");
            System.exit(2);
        }
        List<Case> cases = parseCorpus(Path.of(args[0]));
        Files.writeString(Path.of(args[1]), golden(cases), StandardCharsets.UTF_8);
        Files.writeString(Path.of(args[2]), tables(), StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- corpus

    static String unescape(String s, int line) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (++i >= s.length()) throw new IllegalArgumentException("line " + line + ": trailing backslash");
            char e = s.charAt(i);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'f' -> sb.append('\f');
                case '0' -> sb.append('\0');
                case 's' -> sb.append(' ');
                case '\\' -> sb.append('\\');
                case 'u' -> {
                    int cp = Integer.parseInt(s.substring(i + 1, i + 5), 16);
                    if (Character.isSurrogate((char) cp))
                        throw new IllegalArgumentException("line " + line + ": lone surrogate");
                    sb.append((char) cp);
                    i += 4;
                }
                case 'U' -> {
                    int close = s.indexOf('}', i);
                    int cp = Integer.parseInt(s.substring(i + 2, close), 16);
                    sb.appendCodePoint(cp);
                    i = close;
                }
                default -> throw new IllegalArgumentException("line " + line + ": unknown escape \\" + e);
            }
        }
        return sb.toString();
    }

    static List<Case> parseCorpus(Path path) throws IOException {
        List<String> lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        Map<String, List<String>> sets = new LinkedHashMap<>();
        List<Case> cases = new ArrayList<>();
        Case current = null;
        List<String> currentSet = null;
        int n = 0;
        for (String raw : lines) {
            n++;
            if (raw.isEmpty() || raw.startsWith("#")) continue;
            int sp = raw.indexOf(' ');
            String dir = sp < 0 ? raw : raw.substring(0, sp);
            String rest = sp < 0 ? "" : raw.substring(sp + 1);
            switch (dir) {
                case "set" -> {
                    currentSet = new ArrayList<>();
                    sets.put(rest.trim(), currentSet);
                    current = null;
                }
                case "p", "P" -> {
                    current = new Case();
                    current.pattern = dir.equals("p") ? rest : unescape(rest, n);
                    current.line = n;
                    cases.add(current);
                    currentSet = null;
                }
                case "m" -> {
                    String in = unescape(rest, n);
                    if (currentSet != null) currentSet.add(in);
                    else if (current != null) current.matchInputs.add(in);
                    else throw new IllegalArgumentException("line " + n + ": input before any pattern");
                }
                case "f" -> {
                    if (current == null) throw new IllegalArgumentException("line " + n + ": f before any pattern");
                    current.findInputs.add(unescape(rest, n));
                }
                case "R" -> {
                    if (current == null) throw new IllegalArgumentException("line " + n + ": R before any pattern");
                    current.replacements.add(unescape(rest, n));
                }
                case "u" -> {
                    if (current == null) throw new IllegalArgumentException("line " + n + ": u before any pattern");
                    for (String name : rest.trim().split("\\s+")) {
                        List<String> set = sets.get(name);
                        if (set == null) throw new IllegalArgumentException("line " + n + ": unknown set " + name);
                        current.matchInputs.addAll(set);
                    }
                }
                default -> throw new IllegalArgumentException("line " + n + ": unknown directive " + dir);
            }
        }
        return cases;
    }

    // ---------------------------------------------------------------- golden

    static String golden(List<Case> cases) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n");
        sb.append("  \"generator\": \"crates/java-regex/golden/generate.sh\",\n");
        sb.append("  \"java_version\": ").append(q(System.getProperty("java.version"))).append(",\n");
        sb.append("  \"cases\": [");
        boolean firstCase = true;
        for (Case c : cases) {
            sb.append(firstCase ? "\n" : ",\n");
            firstCase = false;
            sb.append("    {\"pattern\": ").append(q(c.pattern)).append(", \"line\": ").append(c.line);
            Pattern p;
            try {
                p = Pattern.compile(c.pattern);
            } catch (PatternSyntaxException e) {
                sb.append(", \"ok\": false, \"description\": ").append(q(e.getDescription()))
                  .append(", \"index\": ").append(e.getIndex()).append("}");
                continue;
            }
            sb.append(", \"ok\": true, \"groups\": ").append(p.matcher("").groupCount());
            List<String> all = new ArrayList<>(c.matchInputs);
            all.addAll(c.findInputs);
            sb.append(",\n      \"matches\": [");
            boolean first = true;
            for (String in : all) {
                sb.append(first ? "" : ", ");
                first = false;
                String verdict;
                try {
                    verdict = String.valueOf(p.matcher(in).matches());
                } catch (StackOverflowError | RuntimeException e) {
                    // Java itself fails (e.g. CIBackRef indexing past the end with
                    // supplementary characters): recorded, not compared.
                    verdict = q(e.getClass().getSimpleName());
                }
                sb.append("[").append(q(in)).append(", ").append(verdict).append("]");
            }
            sb.append("]");
            if (!c.findInputs.isEmpty()) {
                sb.append(",\n      \"find\": [");
                first = true;
                for (String in : c.findInputs) {
                    sb.append(first ? "" : ", ");
                    first = false;
                    sb.append("{\"input\": ").append(q(in));
                    StringBuilder found = new StringBuilder();
                    String[] parts;
                    try {
                        Matcher m = p.matcher(in);
                        boolean firstM = true;
                        while (m.find()) {
                            found.append(firstM ? "[" : ", [");
                            firstM = false;
                            for (int g = 0; g <= m.groupCount(); g++) {
                                found.append(g == 0 ? "" : ", ").append(m.start(g)).append(", ").append(m.end(g));
                            }
                            found.append("]");
                        }
                        parts = in.split(c.pattern);
                    } catch (StackOverflowError | RuntimeException e) {
                        sb.append(", \"error\": ").append(q(e.getClass().getSimpleName())).append("}");
                        continue;
                    }
                    sb.append(", \"found\": [").append(found).append("], \"split\": [");
                    for (int i = 0; i < parts.length; i++) sb.append(i == 0 ? "" : ", ").append(q(parts[i]));
                    sb.append("]");
                    if (!c.replacements.isEmpty()) {
                        sb.append(", \"replace\": [");
                        boolean firstR = true;
                        for (String r : c.replacements) {
                            sb.append(firstR ? "" : ", ");
                            firstR = false;
                            sb.append("{\"replacement\": ").append(q(r));
                            try {
                                String result = in.replaceAll(c.pattern, r);
                                sb.append(", \"result\": ").append(q(result));
                            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                                sb.append(", \"error\": ").append(q(e.getClass().getSimpleName() + ": " + e.getMessage()));
                            }
                            sb.append("}");
                        }
                        sb.append("]");
                    }
                    sb.append("}");
                }
                sb.append("]");
            }
            sb.append("}");
        }
        sb.append("\n  ]\n}\n");
        return sb.toString();
    }

    static String q(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c))
                throw new IllegalStateException("a golden value has a lone surrogate (Rust strings cannot hold it; "
                        + "change the corpus case): " + s);
        }
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c >= 0x7f) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    // ---------------------------------------------------------------- tables

    static final int MAX = Character.MAX_CODE_POINT;

    static String tables() throws Exception {
        StringBuilder sb = new StringBuilder();
        sb.append("// @generated by crates/java-regex/golden/generate.sh (JavaRegexGolden.java) from\n");
        sb.append("// java.lang.Character of Java ").append(System.getProperty("java.version"))
          .append(". Do not edit: rerun the generator.\n");
        sb.append("//\n// Range tables are flat: [start, end, (value,)] repeated, sorted, inclusive ends.\n\n");
        sb.append("pub(super) const JAVA_VERSION: &str = ").append(q(System.getProperty("java.version"))).append(";\n\n");

        // General categories (Character.getType), value = Java's type number; unassigned omitted.
        valued(sb, "GENERAL_CATEGORY", cp -> Character.getType(cp), 0);

        Map<String, IntPredicate> props = new LinkedHashMap<>();
        props.put("LOWERCASE", Character::isLowerCase);
        props.put("UPPERCASE", Character::isUpperCase);
        props.put("ALPHABETIC", Character::isAlphabetic);
        props.put("IDEOGRAPHIC", Character::isIdeographic);
        props.put("MIRRORED", Character::isMirrored);
        props.put("WHITESPACE", Character::isWhitespace);
        props.put("JAVA_IDENTIFIER_START", Character::isJavaIdentifierStart);
        props.put("JAVA_IDENTIFIER_PART", Character::isJavaIdentifierPart);
        props.put("UNICODE_IDENTIFIER_START", Character::isUnicodeIdentifierStart);
        props.put("UNICODE_IDENTIFIER_PART", Character::isUnicodeIdentifierPart);
        props.put("IDENTIFIER_IGNORABLE", Character::isIdentifierIgnorable);
        for (Map.Entry<String, IntPredicate> e : props.entrySet()) {
            List<Integer> flat = new ArrayList<>();
            int start = -1;
            for (int cp = 0; cp <= MAX + 1; cp++) {
                boolean in = cp <= MAX && e.getValue().test(cp);
                if (in && start < 0) start = cp;
                if (!in && start >= 0) {
                    flat.add(start);
                    flat.add(cp - 1);
                    start = -1;
                }
            }
            array(sb, e.getKey(), flat);
        }

        // Simple case mappings as (code point, mapped) pairs where they differ.
        mapping(sb, "TO_UPPER", Character::toUpperCase);
        mapping(sb, "TO_LOWER", Character::toLowerCase);

        // Scripts.
        Character.UnicodeScript[] scripts = Character.UnicodeScript.values();
        valued(sb, "SCRIPT", cp -> {
            Character.UnicodeScript s = Character.UnicodeScript.of(cp);
            return s == Character.UnicodeScript.UNKNOWN ? -1 : s.ordinal();
        }, -1);
        TreeMap<String, Integer> scriptNames = new TreeMap<>();
        for (Character.UnicodeScript s : scripts) scriptNames.put(s.name(), s.ordinal());
        Field aliasesField = Character.UnicodeScript.class.getDeclaredField("aliases");
        aliasesField.setAccessible(true);
        @SuppressWarnings("unchecked")
        Map<String, Character.UnicodeScript> aliases = (Map<String, Character.UnicodeScript>) aliasesField.get(null);
        for (Map.Entry<String, Character.UnicodeScript> e : aliases.entrySet())
            scriptNames.put(e.getKey(), e.getValue().ordinal());
        names(sb, "SCRIPT_NAMES", "Character.UnicodeScript.forName keys (upper case) -> script number", scriptNames);

        // Blocks.
        Map<Character.UnicodeBlock, Integer> blockIds = new IdentityHashMap<>();
        List<Integer> blockFlat = new ArrayList<>();
        Character.UnicodeBlock prev = null;
        int start = 0;
        for (int cp = 0; cp <= MAX + 1; cp++) {
            Character.UnicodeBlock b = cp <= MAX ? Character.UnicodeBlock.of(cp) : null;
            if (b != prev) {
                if (prev != null) {
                    blockFlat.add(start);
                    blockFlat.add(cp - 1);
                    blockFlat.add(blockIds.computeIfAbsent(prev, k -> blockIds.size()));
                }
                prev = b;
                start = cp;
            }
        }
        array(sb, "BLOCK", blockFlat);
        Field mapField = Character.UnicodeBlock.class.getDeclaredField("map");
        mapField.setAccessible(true);
        @SuppressWarnings("unchecked")
        Map<String, Character.UnicodeBlock> blockMap = (Map<String, Character.UnicodeBlock>) mapField.get(null);
        TreeMap<String, Integer> blockNames = new TreeMap<>();
        for (Map.Entry<String, Character.UnicodeBlock> e : blockMap.entrySet()) {
            Integer id = blockIds.get(e.getValue());
            if (id == null) id = blockIds.computeIfAbsent(e.getValue(), k -> blockIds.size());
            blockNames.put(e.getKey(), id);
        }
        names(sb, "BLOCK_NAMES", "Character.UnicodeBlock.forName keys (upper case) -> block number", blockNames);

        // Grapheme cluster break types of java.util.regex.Grapheme.getType (0 = OTHER omitted).
        Method getType = Class.forName("java.util.regex.Grapheme").getDeclaredMethod("getType", int.class);
        getType.setAccessible(true);
        valued(sb, "GRAPHEME_TYPE", cp -> {
            try {
                return (Integer) getType.invoke(null, cp);
            } catch (ReflectiveOperationException ex) {
                throw new IllegalStateException(ex);
            }
        }, 0);
        return sb.toString();
    }

    static void valued(StringBuilder sb, String name, IntUnaryOperator f, int skip) {
        List<Integer> flat = new ArrayList<>();
        int prev = f.applyAsInt(0);
        int start = 0;
        for (int cp = 1; cp <= MAX + 1; cp++) {
            int v = cp <= MAX ? f.applyAsInt(cp) : Integer.MIN_VALUE;
            if (v != prev) {
                if (prev != skip) {
                    flat.add(start);
                    flat.add(cp - 1);
                    flat.add(prev);
                }
                prev = v;
                start = cp;
            }
        }
        array(sb, name, flat);
    }

    static void mapping(StringBuilder sb, String name, IntUnaryOperator f) {
        List<Integer> flat = new ArrayList<>();
        for (int cp = 0; cp <= MAX; cp++) {
            int m = f.applyAsInt(cp);
            if (m != cp) {
                flat.add(cp);
                flat.add(m);
            }
        }
        array(sb, name, flat);
    }

    static void array(StringBuilder sb, String name, List<Integer> flat) {
        sb.append("pub(super) static ").append(name).append(": &[u32] = &[");
        for (int i = 0; i < flat.size(); i++) {
            sb.append(i % 16 == 0 ? "\n    " : " ").append(flat.get(i)).append(',');
        }
        sb.append("\n];\n\n");
    }

    static void names(StringBuilder sb, String name, String doc, TreeMap<String, Integer> names) {
        sb.append("/// ").append(doc).append(", sorted by name.\n");
        sb.append("pub(super) static ").append(name).append(": &[(&str, u32)] = &[\n");
        for (Map.Entry<String, Integer> e : names.entrySet())
            sb.append("    (").append(q(e.getKey())).append(", ").append(e.getValue()).append("),\n");
        sb.append("];\n\n");
    }
}
