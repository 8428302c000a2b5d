package metamodel

// behaviourRules are the rules of METAMODEL.md about what a model does: workflows, roles, automations,
// reports and data. TestRules (rules_test.go) runs them with the structural ones.
var behaviourRules = []ruleTest{
	// Workflows.
	{"workflow states and transitions", `
app: {name: t}
roles:
  clerk: {}
entities:
  Ticket:
    fields:
      note: {type: string}
workflows:
  TicketFlow:
    entity: Ticket
    initial: opne
    states:
      open: {}
      closed: {final: true}
    transitions:
      close: {from: opn, to: closed, roles: [clrek], requires: [nots]}
`, []string{
		"m.yaml:11:14: unknown initial state \"opne\" of workflow \"TicketFlow\" (did you mean \"open\"?)",
		"m.yaml:16:21: unknown state \"opn\" in from of transition \"TicketFlow.close\" (did you mean \"open\"?)",
		"m.yaml:16:46: unknown role \"clrek\" in transition \"TicketFlow.close\" (did you mean \"clerk\"?)",
		"m.yaml:16:65: unknown field \"nots\" of entity \"Ticket\" in requires of transition \"TicketFlow.close\" (did you mean \"note\"?)",
	}},
	{"guard must be a bool expression", `
app: {name: t}
entities:
  Ticket:
    fields:
      amount: {type: int}
workflows:
  TicketFlow:
    entity: Ticket
    initial: open
    states: {open: {}, closed: {final: true}}
    transitions:
      close: {from: open, to: closed, guard: 'record.amount + 1'}
      reopen: {from: closed, to: open, guard: "record.amuont > 5"}
`, []string{
		"m.yaml:12:47: expression has type int, want bool",
		"m.yaml:13:54: expression: undefined field 'amuont' (did you mean 'amount'?)",
	}},
	{"guardMessage needs a guard", `
app: {name: t}
entities:
  Ticket:
    fields:
      amount: {type: int}
workflows:
  TicketFlow:
    entity: Ticket
    initial: open
    states: {open: {}, closed: {final: true, lock: false}}
    transitions:
      close: {from: open, to: closed, guard: 'record.amount > 1', guardMessage: {en: Amount too small}}
      reopen: {from: closed, to: open, guardMessage: 没有条件}
`, []string{
		"m.yaml:13:54: transition \"TicketFlow.reopen\" has a guardMessage but no guard (add a guard, or remove the message)",
	}},
	{"set must be writable and type-compatible", `
app: {name: t}
entities:
  Ticket:
    fields:
      closedAt: {type: datetime}
      count: {type: int}
workflows:
  TicketFlow:
    entity: Ticket
    initial: open
    states: {open: {}, closed: {final: true}}
    transitions:
      close: {from: open, to: closed, set: {closedAt: '"now"', count: now, status: '"open"', createdAt: now}}
`, []string{
		"m.yaml:13:56: value of \"Ticket.closedAt\" has type string, want timestamp",
		"m.yaml:13:71: value of \"Ticket.count\" has type timestamp, want int",
		"m.yaml:13:76: field \"Ticket.status\" holds the state of workflow \"TicketFlow\"; it changes only through transitions",
		"m.yaml:13:94: field \"Ticket.createdAt\" is set by the system and cannot be assigned",
	}},
	{"timers", `
app: {name: t}
entities:
  Ticket: {}
workflows:
  TicketFlow:
    entity: Ticket
    initial: open
    states: {open: {}, closed: {final: true}}
    transitions:
      close: {from: open, to: closed}
    timers:
      - {state: open, after: 3 days, transition: close}
      - {state: closed, after: 1h, transition: close}
      - {state: open, after: 1h, at: now}
      - {state: opened, after: 1h, notify: {roles: [admin], message: hi}}
`, []string{
		"m.yaml:12:30: invalid duration \"3 days\" (want a number and m, h, d or w, such as 30m, 72h, 90d or 2w)",
		"m.yaml:13:48: transition \"close\" does not start from state \"closed\", so the timer cannot run it (from: open)",
		"m.yaml:14:9: timer of workflow \"TicketFlow\" does nothing (add notify and/or transition)",
		"m.yaml:14:38: timer of workflow \"TicketFlow\" has both after and at (keep one)",
		"m.yaml:15:17: unknown state \"opened\" in timer of workflow \"TicketFlow\" (did you mean \"open\"?)",
		"m.yaml:15:53: unknown role \"admin\" to notify",
	}},
	{"dead ends and unreachable states warn", `
app: {name: t}
entities:
  Ticket: {}
workflows:
  TicketFlow:
    entity: Ticket
    initial: open
    states: {open: {}, stuck: {}, lost: {final: true}}
    transitions:
      block: {from: open, to: stuck}
`, []string{
		"m.yaml:8:24: warning: state \"stuck\" of workflow \"TicketFlow\" has no outgoing transitions and is not final (add final: true)",
		"m.yaml:8:35: warning: state \"lost\" of workflow \"TicketFlow\" is unreachable from the initial state \"open\"",
	}},
	{"declared state field must match the states", `
app: {name: t}
enums:
  Status: {values: [open, done]}
entities:
  Ticket:
    fields:
      status: {type: enum, enum: Status}
workflows:
  TicketFlow:
    entity: Ticket
    initial: open
    states: {open: {}, closed: {final: true}}
    transitions:
      close: {from: open, to: closed}
`, []string{
		"m.yaml:7:34: enum \"Status\" of state field \"Ticket.status\" must have exactly the states of workflow \"TicketFlow\"; missing closed; not states: done",
	}},
	{"state enum name taken", `
app: {name: t}
enums:
  TicketFlowState: {values: [x]}
entities:
  Ticket: {}
workflows:
  TicketFlow:
    entity: Ticket
    initial: open
    states: {open: {final: true}}
`, []string{
		"m.yaml:7:3: workflow \"TicketFlow\" needs enum \"TicketFlowState\" for its states, but an enum of that name is declared at m.yaml:3:3 (rename one)",
	}},

	// Roles.
	{"unknown entity and field in permissions", `
app: {name: t}
entities:
  Patient:
    fields:
      name: {type: string}
roles:
  clerk:
    permissions:
      Patinet: {read: all}
      Patient: {read: all, fields: {nmae: hidden}}
`, []string{
		"m.yaml:9:7: unknown entity \"Patinet\" in permissions of role \"clerk\" (did you mean \"Patient\"?)",
		"m.yaml:10:37: unknown field \"nmae\" of entity \"Patient\" in role \"clerk\" (did you mean \"name\"?)",
	}},
	{"unknown scope", `
app: {name: t}
entities:
  Patient: {}
roles:
  clerk:
    permissions:
      Patient: {read: teem}
`, []string{
		"m.yaml:7:23: unknown scope \"teem\" in permission of role \"clerk\" on \"Patient\" read (did you mean \"team\"?)",
	}},
	{"own needs an owner", `
app: {name: t}
entities:
  Patient:
    traits: [timestamps]
roles:
  clerk:
    permissions:
      Patient: {read: own}
`, []string{
		"m.yaml:8:23: scope \"own\" on \"Patient\" needs an owner, but entity \"Patient\" has no owner trait or ownerField (use all or {field: F, equals: ...})",
	}},
	{"field scope relation and equals", `
app: {name: t}
entities:
  Patient:
    relations:
      department: {to: Team}
      doctor: {to: User}
roles:
  a:
    permissions:
      Patient: {read: {field: department, equals: user.id}}
  b:
    permissions:
      Patient: {read: {field: doctor, equals: user.id, subteams: true}}
  c:
    permissions:
      Patient: {read: {field: dept, equals: user.team}}
`, []string{
		"m.yaml:10:51: relation \"Patient.department\" points to Team, so the scope must use equals: user.team",
		"m.yaml:13:66: subteams is only allowed with equals: user.team",
		"m.yaml:16:31: unknown relation \"dept\" of entity \"Patient\" in scope of role \"c\"",
	}},
	{"inheritance cycle", `
app: {name: t}
roles:
  a: {inherits: [b]}
  b: {inherits: [a]}
`, []string{
		"m.yaml:3:3: role \"a\" inherits itself through a → b → a",
	}},

	// Automations.
	{"automation triggers and actions", `
app: {name: t}
roles:
  clerk: {}
entities:
  Evaluation:
    fields:
      score: {type: int}
    relations:
      rater: {to: User}
automations:
  lowScore:
    entity: Evaluation
    on: [create, transition:close, save]
    when: 'record.score'
    do:
      - notify: {roles: [clerks], field: score, message: low}
      - create: {entity: Evalution}
`, []string{
		"m.yaml:13:18: unknown transition \"close\" in automation \"lowScore\": no workflow of \"Evaluation\" has transitions",
		"m.yaml:13:36: unknown trigger \"save\" in automation \"lowScore\" (want one of create, update, delete)",
		"m.yaml:14:12: expression has type int, want bool",
		"m.yaml:16:26: unknown role \"clerks\" to notify (did you mean \"clerk\"?)",
		"m.yaml:16:42: notify field \"score\" must be a belongsTo relation of \"Evaluation\" to User",
		"m.yaml:17:26: unknown entity \"Evalution\" to create in automation \"lowScore\" (did you mean \"Evaluation\"?)",
	}},
	{"create values are checked against the created entity", `
app: {name: t}
entities:
  Evaluation:
    fields:
      score: {type: int}
  Task:
    fields:
      title: {type: string, required: true}
    relations:
      evaluation: {to: Evaluation}
automations:
  follow:
    entity: Evaluation
    on: create
    do:
      - create: {entity: Task, values: {evaluation: record.score, titel: '"x"'}}
`, []string{
		"m.yaml:16:17: create of \"Task\" gives no value for required field \"title\"",
		"m.yaml:16:67: unknown field \"titel\" of entity \"Task\" in create values of automation \"follow\" (did you mean \"title\"?)",
	}},

	// Reports.
	{"aggregate report", `
app: {name: t}
entities:
  Deal:
    fields:
      name: {type: string}
      amount: {type: decimal}
      closeDate: {type: date}
reports:
  byName:
    entity: Deal
    groupBy: [nmae, {field: name, bucket: month}, {field: closeDate, bucket: decade}]
    measures: [count, sum(name), median(amount), max(closeDate)]
    chart: donut
`, []string{
		"m.yaml:11:15: unknown field \"nmae\" in groupBy of report \"byName\" (did you mean \"name\"?)",
		"m.yaml:11:43: bucket is only for date and datetime fields; \"name\" is not one",
		"m.yaml:11:78: unknown bucket \"decade\" (want one of day, week, month, quarter, year)",
		"m.yaml:12:23: sum needs a numeric field; \"name\" has type string",
		"m.yaml:12:34: unknown measure function \"median\" (want one of count, sum, avg, min, max)",
		"m.yaml:13:12: unknown chart \"donut\" (want one of table, bar, line, pie, funnel)",
	}},
	{"measures are parsed", `
app: {name: t}
reports:
  r:
    entity: Deal
    measures: ["sum amount"]
`, []string{
		"m.yaml:4:13: unknown entity \"Deal\" for report \"r\"",
		"m.yaml:5:16: invalid measure \"sum amount\" (want count, count(f), sum(f), avg(f), min(f) or max(f))",
	}},
	{"rfm report", `
app: {name: t}
entities:
  Retailer: {}
  Order:
    fields:
      placedAt: {type: datetime}
      total: {type: string}
    relations:
      shop: {to: Retailer}
reports:
  value:
    kind: rfm
    entity: Retailer
    events: {entity: Order, by: retailer, date: placedAt, amount: total}
`, []string{
		"m.yaml:14:33: events by \"retailer\" must be a belongsTo relation of \"Order\" to \"Retailer\"",
		"m.yaml:14:67: events amount \"total\" must be a numeric field; it has type string",
	}},
	{"association rules report", `
app: {name: t}
entities:
  Product: {}
  Line:
    relations:
      product: {to: Product}
reports:
  basket:
    kind: associationRules
    transactions: {entity: Line, basket: order, item: product}
    minSupport: 0
    minConfidence: 1.5
`, []string{
		"m.yaml:10:42: transactions basket \"order\" must be a belongsTo relation of \"Line\"",
		"m.yaml:11:17: minSupport 0 is out of range (want more than 0 and at most 1)",
		"m.yaml:12:20: minConfidence 1.5 is out of range (want more than 0 and at most 1)",
	}},
	{"dashboards name roles and reports", `
app: {name: t}
dashboards:
  sales: {roles: [boss], reports: [pipeline]}
`, []string{
		"m.yaml:3:19: unknown role \"boss\" in dashboard \"sales\"",
		"m.yaml:3:36: unknown report \"pipeline\" in dashboard \"sales\"",
	}},

	// Data.
	{"data values are typed and required", `
app: {name: t}
enums:
  Grade: {values: [A, B]}
entities:
  Patient:
    fields:
      name: {type: string, required: true}
      age: {type: int}
      grade: {type: enum, enum: Grade}
      phone: {type: phone}
data:
  Patient:
    - {name: Ann, age: old, grade: C, phone: 13800000000}
    - {age: 3, nmae: Bob}
`, []string{
		"m.yaml:13:24: Patient record: age: want an integer, got string \"old\"",
		"m.yaml:13:36: Patient record: grade: \"C\" is not a value of enum \"Grade\" (want one of A, B)",
		"m.yaml:13:46: Patient record: phone: want a string, got integer 13800000000 (quote it)",
		"m.yaml:14:7: Patient record has no value for required field \"name\"",
		"m.yaml:14:16: unknown field \"nmae\" of entity \"Patient\" (did you mean \"name\"?)",
	}},
	{"data references resolve", `
app: {name: t}
entities:
  Patient:
    fields:
      name: {type: string}
    relations:
      department: {to: Team}
      doctor: {to: User}
data:
  users:
    - {username: doc, password: x, roles: [physician]}
  Team:
    - {_key: cardio, name: Cardiology}
  Patient:
    - {name: Ann, department: cardoi, doctor: dco}
`, []string{
		"m.yaml:11:44: unknown role \"physician\" for user \"doc\"",
		"m.yaml:15:31: no Team record \"cardoi\" for relation \"Patient.department\" (want a _key or a unique field value of a Team record; did you mean \"cardio\"?)",
		"m.yaml:15:47: no User record \"dco\" for relation \"Patient.doctor\" (want the username of a user in data.users; did you mean \"doc\"?)",
	}},
	{"data keys are unique per entity", `
app: {name: t}
data:
  Team:
    - {_key: a, name: A}
    - {_key: a, name: B}
  User:
    - {username: x}
`, []string{
		"m.yaml:5:14: _key \"a\" of Team is declared twice (first at m.yaml:4:14)",
		"m.yaml:6:3: users go under data.users, not data.User",
	}},
}
