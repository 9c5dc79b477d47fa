/*
 * JavaStringMethodsGolden: the source of truth for the String methods templates call with a
 * regular expression (crates/apigw-vtl/src/regex.rs on crates/java-regex): what real Java's
 *
 *     String.matches(regex)
 *     String.replaceAll(regex, replacement)
 *     String.replaceFirst(regex, replacement)
 *     String.split(regex)
 *     String.split(regex, limit)
 *
 * return or throw, for every case of cases.txt (format described at the top of that file).
 * Output: crates/apigw-vtl/golden/java-string-methods.json, one case per line:
 *
 *   {"id": N, "line": L, "method": "replaceAll", "input": "...", "regex": "...",
 *    "replacement": "...", "result": "..."}
 *   {"id": N, "line": L, "method": "split", "input": "...", "regex": "...", "limit": -1,
 *    "result": ["...", ...]}                  (no "limit" for split(regex))
 *   {..., "error": {"exception": "IllegalArgumentException", "message": "..."}}
 *                                             (PatternSyntaxException also has
 *                                              "description" and "index")
 *   {..., "unpaired_surrogates": "..."}       Java's result splits a surrogate pair (it
 *                                             steps over an empty match by one UTF-16
 *                                             unit); no Rust string can hold that, so the
 *                                             result is recorded with each unpaired
 *                                             surrogate written as the text \\uXXXX.
 *
 * The methods are called exactly as a template calls them (on the String), so split's
 * one-character fast path (String.split, not Pattern.split) is the one exercised.
 *
 * How to rerun (from the repository root):   crates/apigw-vtl/golden/java-string-methods/generate.sh
 */

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.PatternSyntaxException;

public final class JavaStringMethodsGolden {

    static final List<String> METHODS =
            List.of("matches", "replaceAll", "replaceFirst", "split", "splitLimit");

    /** A block of cases.txt: every method it runs over every pattern and input. */
    static final class Block {
        String name;
        int line;
        final List<String> patterns = new ArrayList<>();
        final List<Integer> patternLines = new ArrayList<>();
        final List<String> inputs = new ArrayList<>();
        final List<String> replacements = new ArrayList<>();
        final List<Integer> limits = new ArrayList<>();
        List<String> methods = METHODS;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: JavaStringMethodsGolden cases.txt out.json");
            System.exit(2);
        }
        List<Block> blocks = parse(Path.of(args[0]));
        Files.writeString(Path.of(args[1]), golden(blocks), StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- cases.txt

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

    static List<Block> parse(Path path) throws IOException {
        List<String> lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        List<Block> blocks = new ArrayList<>();
        Block b = null;
        int n = 0;
        for (String raw : lines) {
            n++;
            if (raw.isEmpty() || raw.startsWith("#")) continue;
            int sp = raw.indexOf(' ');
            String dir = sp < 0 ? raw : raw.substring(0, sp);
            String rest = sp < 0 ? "" : raw.substring(sp + 1);
            if (dir.equals("block")) {
                b = new Block();
                b.name = rest.trim();
                b.line = n;
                blocks.add(b);
                continue;
            }
            if (b == null) throw new IllegalArgumentException("line " + n + ": " + dir + " before any block");
            switch (dir) {
                case "p", "P" -> {
                    b.patterns.add(dir.equals("p") ? rest : unescape(rest, n));
                    b.patternLines.add(n);
                }
                case "s" -> b.inputs.add(unescape(rest, n));
                case "r" -> b.replacements.add(unescape(rest, n));
                case "l" -> {
                    for (String x : rest.trim().split("\\s+")) b.limits.add(Integer.parseInt(x));
                }
                case "do" -> {
                    List<String> ms = List.of(rest.trim().split("\\s+"));
                    for (String m : ms)
                        if (!METHODS.contains(m)) throw new IllegalArgumentException("line " + n + ": unknown method " + m);
                    b.methods = ms;
                }
                default -> throw new IllegalArgumentException("line " + n + ": unknown directive " + dir);
            }
        }
        for (Block x : blocks) {
            if (x.patterns.isEmpty() || x.inputs.isEmpty())
                throw new IllegalArgumentException("block " + x.name + " (line " + x.line + ") needs p and s lines");
            if ((x.methods.contains("replaceAll") || x.methods.contains("replaceFirst")) && x.replacements.isEmpty())
                throw new IllegalArgumentException("block " + x.name + " (line " + x.line + ") replaces with no r lines");
            if (x.methods.contains("splitLimit") && x.limits.isEmpty())
                throw new IllegalArgumentException("block " + x.name + " (line " + x.line + ") splits with no l line");
        }
        return blocks;
    }

    // ---------------------------------------------------------------- golden

    interface Call {
        Object run();
    }

    static int id = 0;

    static String golden(List<Block> blocks) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n");
        sb.append("  \"about\": ").append(q("Generated by crates/apigw-vtl/golden/java-string-methods/generate.sh "
                + "(JavaStringMethodsGolden.java) from cases.txt with real Java: String.matches, replaceAll, "
                + "replaceFirst, split(regex) and split(regex, limit). Do not edit: rerun the generator."))
          .append(",\n");
        sb.append("  \"java_version\": ").append(q(System.getProperty("java.version"))).append(",\n");
        sb.append("  \"java_vm\": ").append(q(System.getProperty("java.vm.name") + " "
                + System.getProperty("java.vm.version"))).append(",\n");
        sb.append("  \"cases\": [");
        boolean first = true;
        for (Block b : blocks) {
            for (int pi = 0; pi < b.patterns.size(); pi++) {
                String re = b.patterns.get(pi);
                int line = b.patternLines.get(pi);
                for (String in : b.inputs) {
                    for (String m : b.methods) {
                        switch (m) {
                            case "matches" -> first = emit(sb, first, line, b, "matches", in, re, null, null,
                                    () -> in.matches(re));
                            case "replaceAll", "replaceFirst" -> {
                                for (String r : b.replacements) {
                                    first = emit(sb, first, line, b, m, in, re, r, null,
                                            m.equals("replaceAll") ? () -> in.replaceAll(re, r) : () -> in.replaceFirst(re, r));
                                }
                            }
                            case "split" -> first = emit(sb, first, line, b, "split", in, re, null, null,
                                    () -> in.split(re));
                            case "splitLimit" -> {
                                for (int limit : b.limits) {
                                    first = emit(sb, first, line, b, "split", in, re, null, limit,
                                            () -> in.split(re, limit));
                                }
                            }
                            default -> throw new IllegalStateException(m);
                        }
                    }
                }
            }
        }
        sb.append("\n  ]\n}\n");
        return sb.toString();
    }

    static boolean emit(StringBuilder sb, boolean first, int line, Block b, String method, String in,
                        String re, String rep, Integer limit, Call call) {
        sb.append(first ? "\n" : ",\n");
        sb.append("    {\"id\": ").append(id++).append(", \"line\": ").append(line)
          .append(", \"block\": ").append(q(b.name))
          .append(", \"method\": ").append(q(method))
          .append(", \"input\": ").append(q(in))
          .append(", \"regex\": ").append(q(re));
        if (rep != null) sb.append(", \"replacement\": ").append(q(rep));
        if (limit != null) sb.append(", \"limit\": ").append(limit);
        Object result;
        try {
            result = call.run();
        } catch (PatternSyntaxException e) {
            sb.append(", \"error\": {\"exception\": ").append(q(e.getClass().getSimpleName()))
              .append(", \"message\": ").append(q(e.getMessage()))
              .append(", \"description\": ").append(q(e.getDescription()))
              .append(", \"index\": ").append(e.getIndex()).append("}}");
            return false;
        } catch (RuntimeException | StackOverflowError e) {
            sb.append(", \"error\": {\"exception\": ").append(q(e.getClass().getSimpleName()))
              .append(", \"message\": ").append(e.getMessage() == null ? "null" : q(e.getMessage())).append("}}");
            return false;
        }
        if (result instanceof Boolean v) {
            sb.append(", \"result\": ").append(v);
        } else if (result instanceof String s) {
            if (unpaired(s)) sb.append(", \"unpaired_surrogates\": ").append(q(visible(s)));
            else sb.append(", \"result\": ").append(q(s));
        } else {
            String[] parts = (String[]) result;
            boolean bad = false;
            for (String p : parts) bad |= unpaired(p);
            sb.append(bad ? ", \"unpaired_surrogates\": [" : ", \"result\": [");
            for (int i = 0; i < parts.length; i++)
                sb.append(i == 0 ? "" : ", ").append(q(bad ? visible(parts[i]) : parts[i]));
            sb.append("]");
        }
        sb.append("}");
        return false;
    }

    /** Whether `s` holds a surrogate that is not half of a pair. */
    static boolean unpaired(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c)) return true;
        }
        return false;
    }

    /** `s` with every unpaired surrogate written as the six characters \\uXXXX. */
    static String visible(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append(String.format("\\u%04X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static String q(String s) {
        if (unpaired(s)) throw new IllegalStateException("unpaired surrogate in a golden string: " + visible(s));
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
}
