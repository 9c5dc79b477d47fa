// The JVM contender of scripts/bench_tests.py: the same response tests that
// `apigw-reconciler test` runs, rendered by the real Apache Velocity 1.7 (Debian's
// "velocity" package) with API Gateway's $input and $util as
// crates/apigw-vtl/golden/VtlGolden.java implements them (JSON through Jayway JsonPath
// over json-smart; commons-lang 2's escapeJavaScript; a reference that resolves to
// nothing renders as empty text), then compared with the expected bodies.
//
//   java VelocityTests once MANIFEST               one pass: load, parse, render, compare
//   java VelocityTests warm MANIFEST WARMUP PASSES the whole pass WARMUP times untimed,
//                                                  then PASSES times, each timed
//
// MANIFEST (bench_tests.py writes it as tests.jsonl) holds one JSON object per line:
// {"name", "template", "error_template", "patterns", "status", "body", "kind":
// "json"|"body", "expect"}. A pass reads the file, parses each line, picks the template
// as API Gateway's selection does (each selection pattern, a Java regex, against the
// backend's status code; none matching: the default response's template), renders it
// (Velocity parses the template text on every evaluate: nothing is cached between
// tests or passes), and compares the output with "expect": as JSON values (numbers by
// value, objects by their members) for "json", as exact text for "body". Prints per
// pass `once|warmup|pass K N passed M failed T ns`, and the first failures on stderr.
// Exit code 1 when any test failed.
import java.io.*;
import java.math.BigDecimal;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.regex.Pattern;

import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.PathNotFoundException;
import net.minidev.json.JSONValue;
import net.minidev.json.parser.JSONParser;
import net.minidev.json.parser.ParseException;
import org.apache.commons.lang.StringEscapeUtils;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;
import org.apache.velocity.app.event.EventCartridge;
import org.apache.velocity.app.event.ReferenceInsertionEventHandler;

public class VelocityTests {

    // ------------------------------------------------ API Gateway objects (VtlGolden's)

    /** What a JSONPath that matches nothing yields (Jayway throws PathNotFoundException). */
    static final Object MISSING = new Object();

    /** $input, as VtlGolden.Input, except that the body is parsed once per test (not
     *  once per call) and in one strict pass: json-smart in RFC 4627 mode, with the
     *  ordered reader Jayway's default provider uses (objects are LinkedHashMaps). */
    public static class Input {
        private final String body;
        private Object doc;

        Input(String body) {
            this.body = body;
        }

        public String getBody() {
            return body.isEmpty() ? "{}" : body;
        }

        private Object bodyPath(String p) {
            if (doc == null) {
                try {
                    doc = new JSONParser(JSONParser.MODE_RFC4627).parse(getBody(), JSONValue.defaultReader.DEFAULT_ORDERED);
                } catch (ParseException e) {
                    doc = MISSING;
                }
            }
            if (doc == MISSING) {
                return MISSING;
            }
            try {
                return JsonPath.read(doc, p);
            } catch (PathNotFoundException e) {
                return MISSING;
            }
        }

        public Object path(String p) {
            Object v = bodyPath(p);
            return v == MISSING ? null : v;
        }

        public String json(String p) {
            Object v = bodyPath(p);
            return v == MISSING ? "\"\"" : JSONValue.toJSONString(v);
        }

        public Map<String, Map<String, String>> params() {
            Map<String, Map<String, String>> m = new LinkedHashMap<>();
            for (String kind : new String[] {"path", "querystring", "header"}) {
                m.put(kind, new LinkedHashMap<String, String>());
            }
            return m;
        }

        public String params(String name) {
            return "";
        }
    }

    public static class Util {
        public String escapeJavaScript(String s) {
            return StringEscapeUtils.escapeJavaScript(s);
        }

        public Object parseJson(String s) {
            try {
                return new JSONParser(JSONParser.MODE_RFC4627).parse(s, JSONValue.defaultReader.DEFAULT_ORDERED);
            } catch (ParseException e) {
                return null;
            }
        }

        public String urlEncode(String s) throws UnsupportedEncodingException {
            return URLEncoder.encode(s, "UTF-8");
        }

        public String urlDecode(String s) throws UnsupportedEncodingException {
            return URLDecoder.decode(s, "UTF-8");
        }

        public String base64Encode(String s) {
            return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        }

        public String base64Decode(String s) {
            return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
        }
    }

    /** API Gateway renders a reference that resolves to nothing as empty text. */
    public static class AwsNullAsEmpty implements ReferenceInsertionEventHandler {
        public Object referenceInsert(String reference, Object value) {
            return value == null ? "" : value;
        }
    }

    static VelocityEngine newEngine() {
        Properties p = new Properties();
        p.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        p.setProperty("directive.foreach.maxloops", "1000");
        VelocityEngine ve = new VelocityEngine();
        try {
            ve.init(p);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
        return ve;
    }

    /** One render: the output, and the status a template's responseOverride sets. */
    @SuppressWarnings("unchecked")
    static String[] render(VelocityEngine ve, String template, String body) {
        VelocityContext ctx = new VelocityContext();
        EventCartridge ec = new EventCartridge();
        ec.addEventHandler(new AwsNullAsEmpty());
        ec.attachToContext(ctx);
        ctx.put("input", new Input(body));
        ctx.put("util", new Util());
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("requestId", "bench");
        Map<String, Object> override = new LinkedHashMap<>();
        override.put("header", new LinkedHashMap<String, Object>());
        context.put("responseOverride", override);
        ctx.put("context", context);
        ctx.put("stageVariables", new LinkedHashMap<String, String>());
        StringWriter w = new StringWriter();
        ve.evaluate(ctx, w, "template", template);
        Object st = override.get("status");
        return new String[] {w.toString(), st == null ? null : String.valueOf(st)};
    }

    // ------------------------------------------------ one pass

    static int failedShown = 0;

    static void fail(List<String> failures, String name, String why) {
        failures.add(name + ": " + why);
    }

    @SuppressWarnings("unchecked")
    static int[] pass(VelocityEngine ve, Path manifest, List<String> failures) throws IOException {
        String src = new String(Files.readAllBytes(manifest), StandardCharsets.UTF_8);
        int passed = 0, failed = 0;
        int at = 0;
        while (at < src.length()) {
            int nl = src.indexOf('\n', at);
            if (nl < 0) nl = src.length();
            String line = src.substring(at, nl);
            at = nl + 1;
            if (line.trim().isEmpty()) continue;
            Map<String, Object> c = (Map<String, Object>) Reader.parse(line);
            String name = (String) c.get("name");
            String status = (String) c.get("status");
            String template = (String) c.get("template");
            for (Object p : (List<Object>) c.get("patterns")) {
                if (Pattern.compile((String) p).matcher(status).matches()) {
                    template = (String) c.get("error_template");
                    break;
                }
            }
            String out;
            String gotStatus;
            try {
                String[] r = render(ve, template, (String) c.get("body"));
                out = r[0];
                gotStatus = r[1] == null ? "200" : r[1];
            } catch (Throwable e) {
                failed++;
                fail(failures, name, "render error " + e);
                continue;
            }
            String expect = (String) c.get("expect");
            boolean ok;
            String why = null;
            if ("json".equals(c.get("kind"))) {
                Object got;
                try {
                    got = Reader.parse(out);
                    why = diff(got, Reader.parse(expect), "$");
                    ok = why == null;
                } catch (RuntimeException e) {
                    ok = false;
                    why = "output is not JSON (" + e.getMessage() + "): " + quote(out);
                }
            } else {
                ok = out.equals(expect);
                if (!ok) {
                    int k = 0;
                    while (k < out.length() && k < expect.length() && out.charAt(k) == expect.charAt(k)) k++;
                    why = "text differs at offset " + k + ": got " + quote(out.substring(k))
                            + ", expected " + quote(expect.substring(k));
                }
            }
            if (ok && !gotStatus.equals(status)) {
                ok = false;
                why = "status " + gotStatus;
            }
            if (ok) {
                passed++;
            } else {
                failed++;
                fail(failures, name, why);
            }
        }
        return new int[] {passed, failed};
    }

    /** Where the JSON values got and want first differ (null: they are equal): numbers
     *  by value, objects by their members in any order, arrays in order. */
    @SuppressWarnings("unchecked")
    static String diff(Object got, Object want, String at) {
        if (got instanceof Number && want instanceof Number) {
            if (new BigDecimal(got.toString()).compareTo(new BigDecimal(want.toString())) == 0) return null;
        } else if (got instanceof Map && want instanceof Map) {
            Map<String, Object> x = (Map<String, Object>) got, y = (Map<String, Object>) want;
            for (Map.Entry<String, Object> e : y.entrySet()) {
                if (!x.containsKey(e.getKey())) return at + "." + e.getKey() + ": missing";
                String d = diff(x.get(e.getKey()), e.getValue(), at + "." + e.getKey());
                if (d != null) return d;
            }
            for (String k : x.keySet()) {
                if (!y.containsKey(k)) return at + "." + k + ": not expected";
            }
            return null;
        } else if (got instanceof List && want instanceof List) {
            List<Object> x = (List<Object>) got, y = (List<Object>) want;
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                String d = diff(x.get(i), y.get(i), at + "[" + i + "]");
                if (d != null) return d;
            }
            if (x.size() == y.size()) return null;
            return at + ": " + x.size() + " elements, expected " + y.size();
        } else if (got == null ? want == null : got.equals(want)) {
            return null;
        }
        return at + ": got " + show(got) + ", expected " + show(want);
    }

    static String show(Object o) {
        return o instanceof String ? quote((String) o) : String.valueOf(o);
    }

    /** A string on one line, at most 200 characters. */
    static String quote(String s) {
        String q = s.length() > 200 ? s.substring(0, 200) + "..." : s;
        return "\"" + q.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + "\"";
    }

    // ------------------------------------------------ JSON reader (VtlGolden's)

    /** A small strict JSON reader (ordered objects), as VtlGolden.Reader. */
    static final class Reader {
        final String s;
        int i;

        Reader(String s) {
            this.s = s;
        }

        static Object parse(String s) {
            Reader r = new Reader(s);
            Object v = r.value();
            r.ws();
            if (r.i != s.length()) throw r.fail("trailing text");
            return v;
        }

        RuntimeException fail(String m) {
            return new IllegalArgumentException("JSON: " + m + " at offset " + i);
        }

        void ws() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
        }

        char at(int k) {
            if (k >= s.length()) throw fail("unexpected end");
            return s.charAt(k);
        }

        Object value() {
            ws();
            char c = at(i);
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (at(i) == '}') { i++; return m; }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    if (at(i++) != ':') throw fail("expected ':'");
                    m.put(k, value());
                    ws();
                    char d = at(i++);
                    if (d == '}') return m;
                    if (d != ',') throw fail("expected ',' or '}'");
                }
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (at(i) == ']') { i++; return l; }
                while (true) {
                    l.add(value());
                    ws();
                    char d = at(i++);
                    if (d == ']') return l;
                    if (d != ',') throw fail("expected ',' or ']'");
                }
            }
            if (c == '"') return string();
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int st = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            String n = s.substring(st, i);
            if (n.isEmpty()) throw fail("unexpected character");
            if (n.contains(".") || n.contains("e") || n.contains("E")) return Double.valueOf(n);
            long v = Long.parseLong(n);
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) return Integer.valueOf((int) v);
            return Long.valueOf(v);
        }

        String string() {
            if (at(i) != '"') throw fail("expected a string");
            i++;
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = at(i++);
                if (c == '"') return sb.toString();
                if (c < 0x20) throw fail("control character in a string");
                if (c != '\\') { sb.append(c); continue; }
                char e = at(i++);
                switch (e) {
                    case 'n': sb.append('\n'); break;
                    case 't': sb.append('\t'); break;
                    case 'r': sb.append('\r'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'u': sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                    case '"': case '\\': case '/': sb.append(e); break;
                    default: throw fail("invalid escape \\" + e);
                }
            }
        }
    }

    // ------------------------------------------------ main

    static int report(String kind, int k, int[] r, long ns, List<String> failures) {
        System.out.println(kind + " " + k + " " + r[0] + " passed " + r[1] + " failed " + ns + " ns");
        for (String f : failures) {
            if (failedShown++ < 10) System.err.println("FAILED " + f);
        }
        return r[1];
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("once")) {
            long t0 = System.nanoTime();
            VelocityEngine ve = newEngine();
            List<String> failures = new ArrayList<>();
            int[] r = pass(ve, Paths.get(args[1]), failures);
            int failed = report("once", 1, r, System.nanoTime() - t0, failures);
            System.exit(failed == 0 ? 0 : 1);
        }
        if (args.length == 4 && args[0].equals("warm")) {
            VelocityEngine ve = newEngine();
            Path manifest = Paths.get(args[1]);
            int warmup = Integer.parseInt(args[2]), passes = Integer.parseInt(args[3]);
            int failed = 0;
            for (int k = 1; k <= warmup + passes; k++) {
                List<String> failures = new ArrayList<>();
                long t0 = System.nanoTime();
                int[] r = pass(ve, manifest, failures);
                long ns = System.nanoTime() - t0;
                failed += report(k <= warmup ? "warmup" : "pass", k, r, ns, failures);
            }
            System.exit(failed == 0 ? 0 : 1);
        }
        System.err.println("usage: VelocityTests once MANIFEST | VelocityTests warm MANIFEST WARMUP PASSES");
        System.exit(2);
    }
}
