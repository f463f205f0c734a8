/// The reasons a decision collects, in order (`OptimizelyDecision.reasons`).
///
/// The reference builds every reason string whatever the options; they are only ever seen with
/// `INCLUDE_REASONS` (and in error decisions, whose one reason is added directly). So a
/// collector that is not ``isRecording`` skips the string building, which is most of the cost
/// of a reason.
struct DecisionReasons: Sendable {
    /// Whether messages are kept.
    let isRecording: Bool
    /// The messages so far.
    private(set) var messages: [String] = []

    init(recording: Bool) {
        isRecording = recording
    }

    /// Adds a message (built only when recording).
    mutating func add(_ message: @autoclosure () -> String) {
        if isRecording { messages.append(message()) }
    }

    /// Adds every message of `other`, in order.
    mutating func add(contentsOf other: DecisionReasons) {
        if isRecording { messages.append(contentsOf: other.messages) }
    }

    /// A new, empty collector that records when this one does.
    func empty() -> DecisionReasons { DecisionReasons(recording: isRecording) }
}
