import Addressing

/// Picks the lab network: the first candidate /24 that overlaps no route
/// and no address of the host, so a lab never shadows a real network.
/// Candidates stay out of 10.0.0.0/8 (overlay pools) and 172.18.0.0/16
/// (the gateway bridge) so the cluster's own pools keep their defaults.
public enum LabSubnet {
    public static let candidates: [IPv4Network] =
        (240...255).compactMap { IPv4Network("172.31.\($0).0/24") } +
        (0...255).compactMap { IPv4Network("100.77.\($0).0/24") }

    public static func choose(avoiding taken: [IPv4Network]) -> IPv4Network? {
        candidates.first(overlappingNoneOf: taken)
    }
}
