/// What tells two datafiles apart for live updates: the project and its revision. A datafile
/// with the same identity as the current one changes nothing (no swap, no `configUpdate`).
///
/// The reference compares the revision alone, so a datafile of another project with the same
/// revision is ignored; EventSpool compares both (`decisions.md` §19).
public struct DatafileIdentity: Sendable, Hashable, CustomStringConvertible {
    /// `projectId`.
    public var projectId: String
    /// `revision`.
    public var revision: String

    /// An identity.
    public init(projectId: String, revision: String) {
        self.projectId = projectId
        self.revision = revision
    }

    /// The identity of a parsed datafile.
    public init(_ config: ProjectConfig) {
        self.init(projectId: config.projectId, revision: config.revision)
    }

    /// `project 123 revision 45`.
    public var description: String { "project \(projectId) revision \(revision)" }
}
