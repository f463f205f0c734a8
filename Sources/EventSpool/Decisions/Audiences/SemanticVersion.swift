import Foundation

/// The reference's semantic version comparison for the `semver_*` match types (spec
/// `decisions.md` §4.6), bit for bit, except where the reference raises: there it is UNKNOWN.
///
/// It is not SemVer 2.0: a version is one to three dot-separated digit parts, then optionally a
/// pre-release (`-…`) or build (`+…`) suffix compared as one opaque string; parts missing on the
/// user's side count as smaller, extra ones are ignored; build metadata is compared, not
/// ignored. Only ASCII digits count as digits (Python's `isdigit` also accepts `²` or `١`).
enum SemanticVersion {
    /// Compares the user's version with the condition's target: `1` when the user's is greater,
    /// `0` when equal, `-1` when smaller, `nil` when either cannot be parsed.
    static func compare(target: String, user: String) -> Int? {
        let targetIsPreRelease = isPreRelease(target)
        let userIsPreRelease = isPreRelease(user)
        let targetIsBuild = isBuild(target)
        guard let targetParts = parts(of: target), let userParts = parts(of: user) else { return nil }
        for (index, targetPart) in targetParts.enumerated() {
            guard index < userParts.count else {
                return targetIsPreRelease || targetIsBuild ? 1 : -1
            }
            let userPart = userParts[index]
            if !isDigits(userPart) {
                switch compareScalars(userPart, targetPart) {
                case .orderedAscending: return targetIsPreRelease && !userIsPreRelease ? 1 : -1
                case .orderedDescending: return !targetIsPreRelease && userIsPreRelease ? -1 : 1
                case .orderedSame: continue
                }
            }
            // The reference calls int() on the target part here, which raises when it is not a
            // number (target "2.0.0+build.1" against user "2.0.0-1"): UNKNOWN instead.
            guard isDigits(targetPart) else { return nil }
            switch compareNumbers(userPart, targetPart) {
            case .orderedAscending: return -1
            case .orderedDescending: return 1
            case .orderedSame: continue
            }
        }
        return userIsPreRelease && !targetIsPreRelease ? -1 : 0
    }

    /// `-` is present and comes before any `+`.
    static func isPreRelease(_ version: String) -> Bool {
        guard let dash = version.utf8.firstIndex(of: UInt8(ascii: "-")) else { return false }
        guard let plus = version.utf8.firstIndex(of: UInt8(ascii: "+")) else { return true }
        return dash < plus
    }

    /// `+` is present and comes before any `-`.
    static func isBuild(_ version: String) -> Bool {
        guard let plus = version.utf8.firstIndex(of: UInt8(ascii: "+")) else { return false }
        guard let dash = version.utf8.firstIndex(of: UInt8(ascii: "-")) else { return true }
        return plus < dash
    }

    /// The parts of a version: its one to three numeric parts, then the suffix after the first
    /// `-` (pre-release) or `+` (build) as one part; `nil` when the version is not one.
    static func parts(of version: String) -> [Substring]? {
        if version.utf8.contains(UInt8(ascii: " ")) { return nil }
        var prefix = Substring(version)
        var suffix: Substring?
        let separator: UInt8? = isPreRelease(version) ? UInt8(ascii: "-") : isBuild(version) ? UInt8(ascii: "+") : nil
        if let separator, let index = version.utf8.firstIndex(of: separator) {
            prefix = version[..<index]
            suffix = version[version.utf8.index(after: index)...]
        }
        let numbers = prefix.split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count <= 3, numbers.allSatisfy(isDigits) else { return nil }
        return numbers + (suffix.map { [$0] } ?? [])
    }

    static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// Compares two strings of ASCII digits as the integers they stand for, at any length.
    static func compareNumbers(_ lhs: Substring, _ rhs: Substring) -> ComparisonResult {
        let left = lhs.utf8.drop { $0 == UInt8(ascii: "0") }
        let right = rhs.utf8.drop { $0 == UInt8(ascii: "0") }
        if left.count != right.count { return left.count < right.count ? .orderedAscending : .orderedDescending }
        return compareBytes(left, right)
    }

    /// Compares by Unicode code point, as Python does (UTF-8 byte order is code point order);
    /// Swift's `<` on strings would use canonical equivalence instead.
    static func compareScalars(_ lhs: Substring, _ rhs: Substring) -> ComparisonResult {
        compareBytes(lhs.utf8, rhs.utf8)
    }

    private static func compareBytes(_ lhs: some Sequence<UInt8>, _ rhs: some Sequence<UInt8>) -> ComparisonResult {
        var left = lhs.makeIterator()
        var right = rhs.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return .orderedSame
            case (nil, _): return .orderedAscending
            case (_, nil): return .orderedDescending
            case (let a?, let b?):
                if a != b { return a < b ? .orderedAscending : .orderedDescending }
            }
        }
    }
}
