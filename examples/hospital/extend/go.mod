// The hospital's extend/ package imports the hospital app's packages (hospital/ent), which exist only in a
// generated app: this go.mod keeps it out of the crmgen module's builds. crmgen generate copies the
// package into a new app without it (there, it is a package of the app's module), and its tests run there.
module hospital/extend

go 1.26.0
