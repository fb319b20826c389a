public enum PeerAddress {
    public static func split(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw SwarmError("invalid address \(address): use HOST:PORT")
        }
        return (String(address[..<colon]), port)
    }
}
