import GoTemplate
import Testing

@Suite struct ListFormatTests {
    private let rows: [TemplateValue] = [
        .object(["ID": .string("lo6p4xrhlz3n"), "Name": .string("web"), "Replicas": .string("3/3"), "DesiredState": .string("Running")]),
        .object(["ID": .string("kq7sc5qu1wle"), "Name": .string("a-longer-name"), "Replicas": .string("1/1"),
                 "DesiredState": .string("Shutdown")]),
    ]
    private func spaces(_ count: Int) -> String { String(repeating: " ", count: count) }
    private let headers = ["ID": "ID", "Name": "NAME", "Replicas": "REPLICAS", "DesiredState": "DESIRED STATE"]

    @Test func aTemplateMakesOneLinePerRow() throws {
        #expect(try ListFormat("{{.ID}}").render(rows, headers: headers) == "lo6p4xrhlz3n\nkq7sc5qu1wle\n")
        #expect(try ListFormat("{{.Name}}: {{.Replicas}}").render(rows, headers: headers) == "web: 3/3\na-longer-name: 1/1\n")
    }

    @Test func tableAlignsColumnsAsDockersTabwriter() throws {
        let text = try ListFormat(#"table {{.ID}}\t{{.Name}}\t{{.Replicas}}"#).render(rows, headers: headers)
        #expect(text == """
            ID             NAME            REPLICAS
            lo6p4xrhlz3n   web             3/3
            kq7sc5qu1wle   a-longer-name   1/1

            """)
    }

    @Test func columnsAreAtLeastTenWideAndTheHeaderRunsTheFunctionsAsIdentity() throws {
        let text = try ListFormat(#"table {{.Name | upper}}\t{{lower .DesiredState}}"#).render([rows[0]], headers: headers)
        #expect(text == "NAME" + spaces(6) + "DESIRED STATE\n" + "WEB" + spaces(7) + "running\n")
    }

    @Test func aFieldWithoutTitleHasAnEmptyHeader() throws {
        let text = try ListFormat(#"table {{.ID}}\t{{.Extra}}"#).render([], headers: headers)
        #expect(text == "ID" + spaces(8) + "<no value>\n")
    }

    @Test func aMissingFieldIsAnError() {
        #expect(throws: TemplateError.execution(line: 1, column: 2, node: ".Foo", message: #"map has no entry for key "Foo""#)) {
            try ListFormat("{{.Foo}}").render(rows, headers: headers)
        }
    }

    @Test func tabwriterLeavesTheLastCellAndShortLinesUnpadded() {
        #expect(TabWriter.align("a\tb\tc\nlonger cell\td\n") == "a" + spaces(13) + "b" + spaces(9) + "c\n" + "longer cell" + spaces(3) + "d\n")
        #expect(TabWriter.align("x\ty\nno tabs here\nz\tw\n") == "x" + spaces(9) + "y\nno tabs here\nz" + spaces(9) + "w\n")
    }
}
