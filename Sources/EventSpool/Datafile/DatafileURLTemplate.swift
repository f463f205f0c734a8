/// Builds a datafile URL from a template the way the reference's
/// `url_template.format(sdk_key=…)` does: `{sdk_key}` is replaced by the key, `{{` and `}}`
/// are literal braces, a template without `{sdk_key}` is used verbatim, and any other field
/// or an unmatched brace is an error (where Python would raise).
///
/// ```swift
/// try DatafileURLTemplate.url(template: "https://cdn.optimizely.com/datafiles/{sdk_key}.json", sdkKey: "ABC")
/// // "https://cdn.optimizely.com/datafiles/ABC.json"
/// ```
package enum DatafileURLTemplate {
    /// The field a template may use.
    package static let sdkKeyField = "sdk_key"

    /// The URL for `sdkKey`.
    ///
    /// - Throws: ``DatafileSettingsError/unknownTemplateField(template:field:)``,
    ///   ``DatafileSettingsError/unbalancedBrace(template:)``, or
    ///   ``DatafileSettingsError/emptySDKKey(template:)`` when the template uses the key and it
    ///   is empty.
    package static func url(template: String, sdkKey: String) throws(DatafileSettingsError) -> String {
        var result = ""
        var characters = template[...]
        while let character = characters.popFirst() {
            switch character {
            case "{":
                if characters.first == "{" {
                    characters.removeFirst()
                    result.append("{")
                    continue
                }
                guard let close = characters.firstIndex(where: { $0 == "}" || $0 == "{" }), characters[close] == "}" else {
                    throw .unbalancedBrace(template: template)
                }
                let field = String(characters[..<close])
                characters = characters[characters.index(after: close)...]
                guard field == sdkKeyField else { throw .unknownTemplateField(template: template, field: field) }
                guard !sdkKey.isEmpty else { throw .emptySDKKey(template: template) }
                result += sdkKey
            case "}":
                guard characters.first == "}" else { throw .unbalancedBrace(template: template) }
                characters.removeFirst()
                result.append("}")
            default:
                result.append(character)
            }
        }
        return result
    }
}
