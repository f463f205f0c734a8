import Foundation
import PackagePlugin

/// Compiles the numbered SQL files of the package's top-level `Migrations/` folder into the
/// target as Swift string constants, so the library never reads them from disk at run time
/// (a server binary is often deployed without its source tree or a resource bundle).
@main
struct MigrationsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "Migrations")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path())
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        let inputs = names.map { folder.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "BundledMigrations.swift")
        return [
            .buildCommand(
                displayName: "Compiling \(names.count) migrations into \(target.name)",
                executable: try context.tool(named: "MigrationsCodegen").url,
                arguments: [output.path()] + inputs.map { $0.path() },
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
