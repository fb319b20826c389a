import ArgumentParser
import Lab

struct LabDownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop a lab's daemons and everything they started; remove its namespaces and files."
    )

    @OptionGroup var lab: LabNameOption

    func run() throws {
        try requireRoot("shoal lab down")
        try Lab(name: lab.name).down()
        print("Lab \(lab.name) is down.")
    }
}
