/// A domain name in wire form: length-prefixed labels ending with the root's zero byte, never
/// compressed. Case is kept as written (a reply echoes the asker's case); `lowercased()` gives the
/// form names are compared and looked up in.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// RFC 1035 §2.3.4: a whole name in wire form, and one label.
    public static let maximumLength = 255
    public static let maximumLabelLength = 63

    public static let root = DNSName(trustedWire: [0])

    /// The uncompressed wire form, ending in a zero byte.
    public let wire: [UInt8]

    /// `wire` must already be a well-formed name (only the codec and this file make one).
    init(trustedWire wire: [UInt8]) {
        self.wire = wire
    }

    /// Parses dotted text: "whoami", "whoami." and "WhoAmI" name the same host; "." is the root.
    /// Escapes are not read: every character stands for itself.
    public init(_ text: some StringProtocol) throws(DNSWireError) {
        guard text != "." else {
            self = .root
            return
        }
        var bytes = Array(text.utf8)
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        var wire: [UInt8] = []
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= Self.maximumLabelLength else { throw .labelTooLong }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
        }
        wire.append(0)
        guard wire.count <= Self.maximumLength else { throw .nameTooLong }
        self.wire = wire
    }

    /// The labels, first (leftmost) first; none for the root.
    public var labels: [ArraySlice<UInt8>] {
        var labels: [ArraySlice<UInt8>] = []
        var index = 0
        while wire[index] != 0 {
            let length = Int(wire[index])
            labels.append(wire[(index + 1)...(index + length)])
            index += 1 + length
        }
        return labels
    }

    /// The same name with ASCII letters in lower case: how names are compared (RFC 4343).
    public func lowercased() -> DNSName {
        // Most names come in lower case already: then no copy is made.
        guard wire.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else { return self }
        var lower = wire
        var index = 0
        while lower[index] != 0 {
            let end = index + Int(lower[index])
            index += 1
            while index <= end {
                if (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(lower[index]) { lower[index] |= 0x20 }
                index += 1
            }
        }
        return DNSName(trustedWire: lower)
    }

    /// Whether both name the same node, ignoring ASCII case.
    public func isEqualIgnoringCase(_ other: DNSName) -> Bool {
        wire.count == other.wire.count && lowercased() == other.lowercased()
    }

    /// This name with `suffix`'s labels appended (nil when the result would be too long).
    public func appending(_ suffix: DNSName) -> DNSName? {
        let joined = wire.dropLast() + suffix.wire
        return joined.count <= Self.maximumLength ? DNSName(trustedWire: Array(joined)) : nil
    }

    /// Master-file text as dig prints it: "whoami.", "." for the root; a dot or one of `"();@$\`
    /// inside a label is escaped with a backslash, a byte outside printable ASCII as \DDD.
    public var description: String {
        guard wire.count > 1 else { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"),
                     UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    text += "\\" + String(UnicodeScalar(byte))
                case 0x21...0x7e:
                    text.unicodeScalars.append(UnicodeScalar(byte))
                default:
                    text += decimalEscape(byte)
                }
            }
            text += "."
        }
        return text
    }
}

/// `\DDD`, the master-file escape of a byte.
func decimalEscape(_ byte: UInt8) -> String {
    let digits = String(byte)
    return "\\" + String(repeating: "0", count: 3 - digits.count) + digits
}

/// Wire-form bytes as a dictionary key, hashed in one pass over the buffer rather than byte by byte
/// (the cost of every lookup on the answering path).
struct WireKey: Hashable {
    let bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }
    init(_ name: DNSName) { bytes = name.wire[...] }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
