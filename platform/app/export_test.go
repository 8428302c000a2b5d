package app

// ApplyRenames exposes applyRenames to the package's external tests, which use the fixture app.
var ApplyRenames = applyRenames

var (
	LoadMigrations   = loadMigrations
	MigrateVersioned = migrateVersioned
)

// GraphQLHandler exposes graphqlHandler to the external tests.
var GraphQLHandler = graphqlHandler
