/// Where a node draws its randomness from (today: only the randomized election timeout).
///
/// The core never touches a global random source, so that a seeded source makes every run
/// replayable: the simulator hands each node its own seeded generator.
public protocol RandomSource: Sendable {
    /// Returns the next pseudo-random 64-bit value.
    mutating func next() -> UInt64
}

extension RandomSource {
    /// A value in `range`, nearly uniform (the modulo bias is irrelevant for tick counts).
    mutating func next(in range: Range<Int>) -> Int {
        guard range.count > 1 else { return range.lowerBound }
        return range.lowerBound + Int(next() % UInt64(range.count))
    }
}

/// A small seeded generator (SplitMix64): equal seeds give equal sequences.
public struct SplitMix64: RandomSource, RandomNumberGenerator {
    private var state: UInt64

    /// Creates a generator from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// Returns the next pseudo-random value.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
