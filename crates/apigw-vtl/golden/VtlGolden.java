// Golden corpus generator for crates/apigw-vtl: renders every case of cases.json with the real
// Apache Velocity 1.7 engine (Debian's package) plus a Java implementation of API
// Gateway's mapping-template variables, and writes crates/apigw-vtl/golden/vtl.json.
//
//   java VtlGolden golden  cases.json  ../../../crates/apigw-vtl/golden/vtl.json
//   java VtlGolden explore  < templates.jsonl > results.jsonl   (one {"t": ...} per line)
//
// The API Gateway variables follow "API Gateway mapping template and access logging
// variable reference" (API Gateway developer guide). Where API Gateway is recorded to
// differ from stock Velocity and the difference can be reproduced by configuration or
// by the objects we put in the context, it is reproduced here (each place says so).
// Differences that cannot be reproduced in Velocity (a reference that resolves to
// nothing renders as empty text; null == "" is true) are not emulated: for those cases
// cases.json carries a hand-written "aws" expectation with its source, and this
// harness records both and checks that Velocity really differs there.
import java.io.*;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.PathNotFoundException;
import net.minidev.json.JSONValue;
import net.minidev.json.parser.JSONParser;
import net.minidev.json.parser.ParseException;
import org.apache.commons.lang.StringEscapeUtils;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.event.EventCartridge;
import org.apache.velocity.app.event.ReferenceInsertionEventHandler;
import org.apache.velocity.app.VelocityEngine;
import org.apache.velocity.exception.ParseErrorException;

public class VtlGolden {

    // ---------------------------------------------------------------- API Gateway objects

    /** JSON as API Gateway hands it to templates: Jayway JsonPath over json-smart. That
     *  pair is what makes a JSON object print like a Java map ({a=b, c=d}: json-smart's
     *  ordered reader builds LinkedHashMaps) while a JSON array prints as JSON
     *  ([{"a":"b"}]: json-smart's JSONArray.toString), as API Gateway is recorded to do. */
    static final Configuration JSON = Configuration.defaultConfiguration();

    /** What a JSONPath that matches nothing yields (Jayway throws PathNotFoundException). */
    static final Object MISSING = new Object();

    static Object readPath(String json, String path) {
        Object doc = JSON.jsonProvider().parse(json);
        try {
            return JsonPath.read(doc, path);
        } catch (PathNotFoundException e) {
            return MISSING;
        }
    }

    public static class Input {
        private final String body;
        private final Map<String, Map<String, String>> params;

        Input(String body, Map<String, Map<String, String>> params) {
            this.body = body;
            this.params = params;
        }

        /** $input.body. AWS: an empty integration response body reads as "{}". */
        public String getBody() {
            return body.isEmpty() ? "{}" : body;
        }

        /** The JSONPath result over $input.body, or MISSING when the path matches
         *  nothing or the body is not JSON (RFC 4627, as crates/apigw-vtl reads it: Jayway's
         *  default json-smart reader is permissive and would take bare text for a
         *  string). LocalStack's unit tests, updated from the AWS console
         *  (localstack/localstack#12774): over "not json", $input.path('$.myVar')
         *  renders nothing and $input.json('$.message') gives "" (test_template_mapping.py
         *  test_input_path_not_json_body, test_apply_template_no_json_payload_non_quoted). */
        private Object bodyPath(String p) {
            String body = getBody();
            try {
                new JSONParser(JSONParser.MODE_RFC4627).parse(body);
            } catch (ParseException e) {
                return MISSING;
            }
            return readPath(body, p);
        }

        /** $input.path(x): the JSONPath result as objects ($input.body parsed as JSON);
         *  null when nothing matches (recorded against AWS: LocalStack's
         *  test_apigateway_common.py test_input_path_template_formatting, "invalid-path"). */
        public Object path(String p) {
            Object v = bodyPath(p);
            return v == MISSING ? null : v;
        }

        /** $input.json(x): the JSONPath result serialised as JSON text; when nothing
         *  matches, the JSON text of an empty string, "" (LocalStack's
         *  test_apply_template_no_json_payload, source as above). */
        public String json(String p) {
            Object v = bodyPath(p);
            if (v == MISSING) {
                return "\"\"";
            }
            return JSONValue.toJSONString(v);
        }

        /** $input.params(): {path={..}, querystring={..}, header={..}}. */
        public Map<String, Map<String, String>> params() {
            return params;
        }

        /** $input.params(x): path, then query string, then header (AWS documents this
         *  search order); "" when none has it. */
        public String params(String name) {
            for (String kind : new String[] {"path", "querystring", "header"}) {
                Map<String, String> m = params.get(kind);
                if (m != null && m.containsKey(name)) {
                    return m.get(name);
                }
            }
            return "";
        }
    }

    public static class Util {
        /** commons-lang 2 StringEscapeUtils.escapeJavaScript: escapes ' as \' (as API
         *  Gateway does) and / as \/, non-ASCII as uppercase \\uXXXX. */
        public String escapeJavaScript(String s) {
            return StringEscapeUtils.escapeJavaScript(s);
        }

        public Object parseJson(String s) {
            Object v = readPath(s, "$");
            return v == MISSING ? null : v;
        }

        /** java.net.URLEncoder, UTF-8: space becomes +. */
        public String urlEncode(String s) throws UnsupportedEncodingException {
            return URLEncoder.encode(s, "UTF-8");
        }

        public String urlDecode(String s) throws UnsupportedEncodingException {
            return URLDecoder.decode(s, "UTF-8");
        }

        /** Base64 (RFC 4648, padded) of the string's UTF-8 bytes. */
        public String base64Encode(String s) {
            return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        }

        /** The UTF-8 text of the decoded bytes (strict RFC 4648 decoder). */
        public String base64Decode(String s) {
            return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
        }
    }

    // ---------------------------------------------------------------- rendering

    /** API Gateway renders a reference that resolves to nothing as empty text, where
     *  stock Velocity prints the reference itself (docs/semantics.md §7,
     *  from recorded real responses; e.g. the README of yyolk/api-gateway-payload-parse
     *  shows $input.params().header.get('Content-Type') rendering as ""). Velocity offers
     *  the hook to reproduce it: a ReferenceInsertionEventHandler sees every rendered
     *  (unescaped) reference, null ones included, and may replace the value. The "aws"
     *  rendering of each case uses it; the "velocity" rendering is stock. */
    public static class AwsNullAsEmpty implements ReferenceInsertionEventHandler {
        public Object referenceInsert(String reference, Object value) {
            return value == null ? "" : value;
        }
    }

    static VelocityEngine newEngine() {
        Properties p = new Properties();
        p.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        // API Gateway quota: a #foreach loop runs at most 1,000 iterations. Velocity's
        // own knob for that is directive.foreach.maxloops (the loop stops silently).
        p.setProperty("directive.foreach.maxloops", "1000");
        VelocityEngine ve = new VelocityEngine();
        try {
            ve.init(p);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
        return ve;
    }

    static final class Result {
        String output; // null on error
        String errorKind; // "parse" | "render"
        String errorMessage;
        String status;
        Map<String, String> headers = new LinkedHashMap<>();
    }

    @SuppressWarnings("unchecked")
    static Result render(VelocityEngine ve, String template, Map<String, Object> inputs, boolean aws) {
        Result r = new Result();
        VelocityContext ctx = new VelocityContext();
        if (aws) {
            EventCartridge ec = new EventCartridge();
            ec.addEventHandler(new AwsNullAsEmpty());
            ec.attachToContext(ctx);
        }
        Map<String, Map<String, String>> params = new LinkedHashMap<>();
        Map<String, Object> p = (Map<String, Object>) inputs.get("params");
        for (String kind : new String[] {"path", "querystring", "header"}) {
            Map<String, String> m = new LinkedHashMap<>();
            Object src = p.get(kind);
            if (src instanceof Map) {
                for (Map.Entry<String, Object> e : ((Map<String, Object>) src).entrySet()) {
                    m.put(e.getKey(), String.valueOf(e.getValue()));
                }
            }
            params.put(kind, m);
        }
        ctx.put("input", new Input((String) inputs.get("body"), params));
        ctx.put("util", new Util());
        Map<String, Object> context = (Map<String, Object>) deepCopy(inputs.get("context"));
        // $context.responseOverride.status / .header.<name>: templates #set them; the
        // integration response then uses them for the method response.
        Map<String, Object> override = new LinkedHashMap<>();
        override.put("header", new LinkedHashMap<String, Object>());
        context.put("responseOverride", override);
        ctx.put("context", context);
        Map<String, String> stage = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : ((Map<String, Object>) inputs.get("stageVariables")).entrySet()) {
            stage.put(e.getKey(), String.valueOf(e.getValue()));
        }
        ctx.put("stageVariables", stage);

        StringWriter w = new StringWriter();
        // Velocity 1.7 registers an inline #macro in the engine, and with its default
        // velocimacro.permissions.allow.inline.local.scope = false every template sees it:
        // a template that defines macros gets an engine of its own, so one case's macros
        // never reach another (as one API Gateway template's never reach another's).
        if (template.contains("macro")) {
            ve = newEngine();
        }
        try {
            ve.evaluate(ctx, w, "template", template);
            r.output = w.toString();
        } catch (ParseErrorException e) {
            r.errorKind = "parse";
            r.errorMessage = String.valueOf(e.getMessage());
            return r;
        } catch (Throwable e) {
            r.errorKind = "render";
            r.errorMessage = e.getClass().getSimpleName() + ": " + e.getMessage();
            return r;
        }
        Object ro = context.get("responseOverride");
        if (ro instanceof Map) {
            Object st = ((Map<String, Object>) ro).get("status");
            if (st != null) {
                r.status = String.valueOf(st);
            }
            Object hs = ((Map<String, Object>) ro).get("header");
            if (hs instanceof Map) {
                for (Map.Entry<Object, Object> e : ((Map<Object, Object>) hs).entrySet()) {
                    if (e.getValue() != null) {
                        r.headers.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
                    }
                }
            }
        }
        return r;
    }

    static Map<String, Object> resultJson(Result r) {
        Map<String, Object> vel = new LinkedHashMap<>();
        if (r.output != null) {
            vel.put("output", r.output);
            if (r.status != null) vel.put("status", r.status);
            if (!r.headers.isEmpty()) vel.put("headers", r.headers);
        } else {
            vel.put("error", r.errorKind);
            vel.put("message", r.errorMessage);
        }
        return vel;
    }

    @SuppressWarnings("unchecked")
    static Object deepCopy(Object o) {
        if (o instanceof Map) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : ((Map<String, Object>) o).entrySet()) {
                m.put(e.getKey(), deepCopy(e.getValue()));
            }
            return m;
        }
        return o;
    }

    // ---------------------------------------------------------------- defaults

    static final String DEFAULT_BODY =
            "{\"id\":42,\"name\":\"Widget\",\"price\":9.5,\"tags\":[\"a\",\"b\"],"
            + "\"owner\":{\"name\":\"Ann\",\"email\":\"ann@example.com\"},"
            + "\"errorMessage\":\"Not found: order 42\"}";

    @SuppressWarnings("unchecked")
    static Map<String, Object> effectiveInputs(Map<String, Object> c) {
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("body", c.containsKey("body") ? c.get("body") : DEFAULT_BODY);
        in.put("params", c.containsKey("params") ? c.get("params") : Reader.parse(
                "{\"path\":{\"id\":\"42\"},\"querystring\":{\"page\":\"2\",\"q\":\"a b\"},"
                + "\"header\":{\"Accept\":\"application/json\",\"X-Trace\":\"abc\"}}"));
        Map<String, Object> params = (Map<String, Object>) in.get("params");
        for (String kind : new String[] {"path", "querystring", "header"}) {
            if (!params.containsKey(kind)) {
                params.put(kind, new LinkedHashMap<String, Object>());
            }
        }
        in.put("context", c.containsKey("context") ? c.get("context") : Reader.parse(
                "{\"requestId\":\"req-1\",\"stage\":\"prod\",\"httpMethod\":\"GET\","
                + "\"resourcePath\":\"/orders/{id}\",\"apiId\":\"abc123\","
                + "\"identity\":{\"sourceIp\":\"192.0.2.1\",\"userAgent\":\"curl/8.0\"}}"));
        in.put("stageVariables", c.containsKey("stageVariables") ? c.get("stageVariables")
                : Reader.parse("{\"origin\":\"https://example.com\"}"));
        return in;
    }

    // ---------------------------------------------------------------- JSON input

    /** A small strict JSON reader for cases.json (ordered objects). Not json-smart:
     *  Debian's patched json-smart refuses long documents ("non natural depths"). */
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
            return new IllegalArgumentException("cases.json: " + m + " at offset " + i);
        }

        void ws() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
        }

        Object value() {
            ws();
            if (i >= s.length()) throw fail("unexpected end");
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (s.charAt(i) == '}') { i++; return m; }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    if (s.charAt(i++) != ':') throw fail("expected ':'");
                    m.put(k, value());
                    ws();
                    char d = s.charAt(i++);
                    if (d == '}') return m;
                    if (d != ',') throw fail("expected ',' or '}'");
                }
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (s.charAt(i) == ']') { i++; return l; }
                while (true) {
                    l.add(value());
                    ws();
                    char d = s.charAt(i++);
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
            if (s.charAt(i) != '"') throw fail("expected a string");
            i++;
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') return sb.toString();
                if (c != '\\') { sb.append(c); continue; }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': sb.append('\n'); break;
                    case 't': sb.append('\t'); break;
                    case 'r': sb.append('\r'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'u': sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                    default: sb.append(e);
                }
            }
        }
    }

    // ---------------------------------------------------------------- JSON output

    static void str(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (ch < 0x20 || ch == 0x7f) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
            }
        }
        sb.append('"');
    }

    @SuppressWarnings("unchecked")
    static void json(StringBuilder sb, Object o, String indent) {
        if (o == null) {
            sb.append("null");
        } else if (o instanceof String) {
            str(sb, (String) o);
        } else if (o instanceof Number || o instanceof Boolean) {
            sb.append(o);
        } else if (o instanceof Map) {
            Map<String, Object> m = (Map<String, Object>) o;
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            boolean flat = indent == null;
            sb.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                if (!flat) sb.append('\n').append(indent).append("  ");
                str(sb, e.getKey());
                sb.append(flat ? ":" : ": ");
                json(sb, e.getValue(), flat ? null : indent + "  ");
            }
            if (!flat) sb.append('\n').append(indent);
            sb.append('}');
        } else if (o instanceof List) {
            List<Object> l = (List<Object>) o;
            sb.append('[');
            boolean first = true;
            for (Object x : l) {
                if (!first) sb.append(',');
                first = false;
                if (indent != null) sb.append('\n').append(indent).append("  ");
                json(sb, x, indent == null ? null : indent + "  ");
            }
            if (indent != null && !l.isEmpty()) sb.append('\n').append(indent);
            sb.append(']');
        } else {
            str(sb, o.toString());
        }
    }

    // ---------------------------------------------------------------- main

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        VelocityEngine ve = newEngine();
        if (args.length >= 1 && args[0].equals("explore")) {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
            String line;
            while ((line = in.readLine()) != null) {
                if (line.trim().isEmpty()) continue;
                Map<String, Object> c = (Map<String, Object>) Reader.parse(line);
                Result r = render(ve, (String) c.get("t"), effectiveInputs(c), false);
                Map<String, Object> o = new LinkedHashMap<>();
                Map<String, Object> inputs = effectiveInputs(c);
                Result r2 = r;
                o.put("t", c.get("t"));
                o.put("inputs", inputs);
                if (r2.output != null) o.put("out", r2.output); else o.put("err", r2.errorKind + ": " + r2.errorMessage);
                StringBuilder sb = new StringBuilder();
                json(sb, o, null);
                out.println(sb);
            }
            return;
        }
        if (args.length != 3 || !args[0].equals("golden")) {
            System.err.println("usage: VtlGolden golden CASES.json OUT.json | VtlGolden explore");
            System.exit(2);
        }
        String src = new String(Files.readAllBytes(Paths.get(args[1])), StandardCharsets.UTF_8);
        List<Object> cases = (List<Object>) Reader.parse(src);
        List<Object> outCases = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int failures = 0;
        for (Object co : cases) {
            Map<String, Object> c = (Map<String, Object>) co;
            String name = (String) c.get("name");
            if (!names.add(name)) {
                System.err.println("duplicate case name: " + name);
                failures++;
            }
            String template = (String) c.get("template");
            Map<String, Object> inputs = effectiveInputs(c);
            Result r = render(ve, template, inputs, false);
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", name);
            o.put("template", template);
            o.put("inputs", inputs);
            o.put("velocity", resultJson(r));
            Object aws = c.get("aws");
            if (aws != null) {
                // hand-written: a difference Velocity cannot be configured to show
                Map<String, Object> a = new LinkedHashMap<>((Map<String, Object>) aws);
                if (r.output != null && r.output.equals(a.get("output"))) {
                    System.err.println("case " + name + ": marked as differing on AWS, but Velocity gives the AWS output");
                    failures++;
                }
                a.put("how", "hand-written");
                if (r.status != null) a.put("status", r.status);
                if (!r.headers.isEmpty()) a.put("headers", r.headers);
                o.put("aws", a);
            } else {
                Result ar = render(ve, template, inputs, true);
                Map<String, Object> a = resultJson(ar);
                if (!a.equals(o.get("velocity"))) {
                    a.put("how", "emulated");
                    a.put("source", "API Gateway renders a reference that resolves to nothing as empty "
                            + "text (see VtlGolden.AwsNullAsEmpty)");
                    o.put("aws", a);
                }
            }
            outCases.add(o);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("about", "Generated by crates/apigw-vtl/golden/generate.sh from cases.json with Apache Velocity 1.7 "
                + "(Debian package velocity 1.7) and the API Gateway variables of VtlGolden.java. "
                + "velocity = what stock Velocity rendered; aws (only where it differs) = what API Gateway "
                + "renders: emulated (Velocity plus a reference-insertion handler for API Gateway's "
                + "null-as-empty rendering) or hand-written (with its source). Do not edit by hand.");
        doc.put("cases", outCases);
        StringBuilder sb = new StringBuilder();
        json(sb, doc, "");
        sb.append('\n');
        Files.write(Paths.get(args[2]), sb.toString().getBytes(StandardCharsets.UTF_8));
        System.err.println("wrote " + outCases.size() + " cases to " + args[2]);
        if (failures > 0) {
            System.exit(1);
        }
    }
}
