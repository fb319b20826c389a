import FoundationEssentials
import GoTemplate
import Testing

/// text/template's documented behaviour, and docker's functions and error texts.
@Suite struct TemplateTests {
    private let service: TemplateValue = .object([
        "ID": .string("lo6p4xrhlz3n"),
        "Name": .string("web"),
        "Replicas": .int(3),
        "Ratio": .double(0.5),
        "Global": .bool(false),
        "Nothing": .null,
        "Labels": .object(["com.example.tier": .string("front"), "owner": .string("ops")]),
        "Command": .array([.string("shoal"), .string("whoami"), .string("--port"), .string("8080")]),
        "Empty": .array([]),
        "Spec": .object(["Name": .string("web"), "Mode": .object(["Replicated": .object(["Replicas": .int(3)])])]),
        "Endpoint": .object(["VirtualIPs": .array([.object(["NetworkID": .string("n1"), "Addr": .string("10.0.1.2/24")])])]),
    ])

    private func render(_ text: String, _ dot: TemplateValue? = nil) throws -> String {
        try Template(text).execute(dot ?? service)
    }

    private func parseError(_ text: String) -> String? {
        do {
            _ = try Template(text)
            return nil
        } catch {
            return error.description
        }
    }

    private func executionError(_ text: String) -> String? {
        do {
            _ = try render(text)
            return nil
        } catch let error as TemplateError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func textAndFieldPaths() throws {
        #expect(try render("plain text") == "plain text")
        #expect(try render("{{.Name}}") == "web")
        #expect(try render("{{.Spec.Mode.Replicated.Replicas}} replicas") == "3 replicas")
        #expect(try render("{{ .ID }}:{{.Name}}") == "lo6p4xrhlz3n:web")
        #expect(try render("{{.}}", .string("dot")) == "dot")
    }

    @Test func valuesPrintAsGoPrintsThem() throws {
        #expect(try render("{{.Command}}") == "[shoal whoami --port 8080]")
        #expect(try render("{{.Labels}}") == "map[com.example.tier:front owner:ops]")
        #expect(try render("{{.Global}} {{.Ratio}} {{.Replicas}}") == "false 0.5 3")
        #expect(try render("{{.Nothing}}") == "<no value>")
        #expect(try render("{{3}} {{1.5}} {{true}} {{\"s\"}} {{`raw`}}") == "3 1.5 true s raw")
    }

    @Test func jsonIsGoMarshal() throws {
        #expect(try render("{{json .Labels}}") == #"{"com.example.tier":"front","owner":"ops"}"#)
        #expect(try render("{{json .Endpoint.VirtualIPs}}") == #"[{"Addr":"10.0.1.2/24","NetworkID":"n1"}]"#)
        #expect(try render("{{json .Name}} {{json .Nothing}} {{json .Replicas}}") == #""web" null 3"#)
        #expect(try render("{{json .}}", .string("<a&b>\n")) == #""\u003ca\u0026b\u003e\n""#)
    }

    @Test func pipelinesPassTheValueAsTheLastArgument() throws {
        #expect(try render("{{.Labels | json}}") == #"{"com.example.tier":"front","owner":"ops"}"#)
        #expect(try render("{{.Name | upper}}") == "WEB")
        #expect(try render("{{.Name | printf \"%s!\"}}") == "web!")
        #expect(try render("{{\"-\" | printf \"%s%s\" .Name}}") == "web-")
    }

    @Test func rangeSetsTheDotAndTakesElse() throws {
        #expect(try render("{{range .Command}}<{{.}}>{{end}}") == "<shoal><whoami><--port><8080>")
        #expect(try render("{{range .Empty}}x{{else}}none{{end}}") == "none")
        #expect(try render("{{range .Labels}}{{.}},{{end}}") == "front,ops,")
        #expect(try render("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}") == "com.example.tier=front;owner=ops;")
        #expect(try render("{{range $i, $e := .Command}}{{$i}}{{end}}") == "0123")
        #expect(try render("{{range .Endpoint.VirtualIPs}}{{.Addr}} on {{.NetworkID}}{{end}}") == "10.0.1.2/24 on n1")
        #expect(try render("{{range .Command}}{{$.Name}}{{end}}") == "webwebwebweb")
    }

    @Test func ifFollowsGoTruthiness() throws {
        #expect(try render("{{if .Global}}g{{else}}r{{end}}") == "r")
        #expect(try render("{{if .Replicas}}yes{{end}}") == "yes")
        #expect(try render("{{if .Empty}}yes{{else}}no{{end}}") == "no")
        #expect(try render("{{if .Nothing}}yes{{else}}no{{end}}") == "no")
        #expect(try render("{{if \"\"}}yes{{else}}no{{end}}") == "no")
        #expect(try render("{{if 0}}a{{else if .Labels}}b{{else}}c{{end}}") == "b")
        #expect(try render("{{if eq .Name \"api\" \"web\"}}match{{end}}") == "match")
        #expect(try render("{{if and .Name (not .Global)}}ok{{end}}") == "ok")
        #expect(try render("{{if or .Global .Empty}}x{{else}}neither{{end}}") == "neither")
        #expect(try render("{{if gt .Replicas 2}}big{{end}}{{if le .Replicas 2}}small{{end}}") == "big")
        #expect(try render("{{with .Spec}}{{.Name}}{{end}}{{with .Empty}}x{{else}}none{{end}}") == "webnone")
    }

    @Test func dockersFunctions() throws {
        #expect(try render("{{index .Labels \"owner\"}}") == "ops")
        #expect(try render("{{index .Labels \"absent\"}}") == "<no value>")
        #expect(try render("{{index .Command 1}}") == "whoami")
        #expect(try render("{{join .Command \", \"}}") == "shoal, whoami, --port, 8080")
        #expect(try render("{{upper .Name}} {{lower \"ABC\"}} {{title \"hello world\"}}") == "WEB abc Hello World")
        #expect(try render("{{split \"a,b,c\" \",\"}}") == "[a b c]")
        #expect(try render("{{pad .Name 1 2}}|") == " web  |")
        #expect(try render("{{truncate .ID 5}}") == "lo6p4")
        #expect(try render("{{len .Command}} {{len .Labels}} {{len .Name}}") == "4 2 3")
    }

    @Test func printfPrintAndPrintln() throws {
        #expect(try render("{{printf \"%s has %d replicas\" .Name .Replicas}}") == "web has 3 replicas")
        #expect(try render("{{printf \"%-5s|%5s|%05d|%.2f|%q|%v|%t|%%\" .Name .Name 42 .Ratio .Name .Replicas true}}")
                == "web  |  web|00042|0.50|\"web\"|3|true|%")
        #expect(try render("{{printf \"%s %s\" .Name}}") == "web %!s(MISSING)")
        #expect(try render("{{println .Name .Replicas}}") == "web 3\n")
        #expect(try render("{{print .Name .Replicas 1 2}}") == "web3 1 2")
    }

    @Test func trimMarkersEatTheSpaceBeside() throws {
        #expect(try render("a  {{- .Name -}}  \n b") == "awebb")
        #expect(try render("{{range .Empty -}} x {{- else -}}   none   {{- end}}") == "none")
        #expect(try render("{{- /* a comment */ -}} x") == "x")
        #expect(try render("{{-3}}") == "-3")
    }

    @Test func variablesAndParentheses() throws {
        #expect(try render("{{$n := .Name}}{{$n}}-{{$n | upper}}") == "web-WEB")
        #expect(try render("{{(index .Endpoint.VirtualIPs 0).Addr}}") == "10.0.1.2/24")
        #expect(try render("{{$x := 1}}{{$x = 2}}{{$x}}") == "2")
    }

    @Test func parseErrorsAsGoWordsThem() {
        #expect(parseError("{{.Name}") == #"template: :1: unexpected "}" in operand"#)
        #expect(parseError("{{.Name") == "template: :1: unclosed action")
        #expect(parseError("{{if .Name}}x") == "template: :1: unexpected EOF")
        #expect(parseError("x\n{{end}}") == "template: :2: unexpected {{end}}")
        #expect(parseError("{{nope .Name}}") == #"template: :1: function "nope" not defined"#)
        #expect(parseError("{{}}") == "template: :1: missing value for command")
        #expect(parseError("{{if}}{{end}}") == "template: :1: missing value for if")
        #expect(parseError("{{range}}{{end}}") == "template: :1: missing value for range")
        #expect(parseError("{{$x}}") == #"template: :1: undefined variable "$x""#)
        #expect(parseError("{{\"open}}") == "template: :1: unterminated quoted string")
    }

    @Test func executionErrorsAsGoWordsThem() {
        #expect(executionError("{{.Foo}}") == #"template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo""#)
        #expect(executionError("x {{.Spec.Foo}}") == #"template: :1:4: executing "" at <.Spec.Foo>: map has no entry for key "Foo""#)
        #expect(executionError("{{.Name.Foo}}") == #"template: :1:2: executing "" at <.Name.Foo>: can't evaluate field Foo in type string"#)
        #expect(executionError("{{.Nothing.Foo}}") == #"template: :1:2: executing "" at <.Nothing.Foo>: nil data; no entry for key "Foo""#)
        #expect(executionError("{{index .Command 9}}")
                == "template: :1:2: executing \"\" at <index .Command 9>: error calling index: index out of range: 9")
        #expect(executionError("{{join .Name}}")
                == "template: :1:2: executing \"\" at <join>: wrong number of args for join: want 2 got 1")
        #expect(executionError("{{range .Name}}{{end}}") == #"template: :1:8: executing "" at <{{range .Name}}{{end...>: range can't iterate over web"#)
        #expect(executionError("{{.Name .ID}}") == #"template: :1:2: executing "" at <.Name>: Name is not a method but has arguments"#)
    }

    @Test func aMissingKeyIsNoValueWhenAsked() throws {
        #expect(try Template("{{.Foo}}").execute(service, missingKeyIsError: false) == "<no value>")
    }

    @Test func decodesJSON() throws {
        let value = try JSONDecoder().decode(TemplateValue.self, from: Data(#"{"a": [1, 2.5, "x", true, null], "b": {"c": -3}}"#.utf8))
        #expect(value == .object(["a": .array([.int(1), .double(2.5), .string("x"), .bool(true), .null]),
                                  "b": .object(["c": .int(-3)])]))
    }
}
