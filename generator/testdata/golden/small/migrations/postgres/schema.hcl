table "accounts" {
  schema = schema.public
  column "id" {
    null = false
    type = bigint
    identity {
      generated = BY_DEFAULT
      start     = 95584497172480
    }
  }
  column "code" {
    null = true
    type = varchar
  }
  column "name" {
    null = false
    type = varchar
  }
  column "notes" {
    null = true
    type = text
  }
  column "employees" {
    null = true
    type = bigint
  }
  column "score" {
    null    = false
    type    = double_precision
    default = sql("0.5")
  }
  column "credit" {
    null = true
    type = numeric(12,2)
  }
  column "active" {
    null    = false
    type    = boolean
    default = sql("true")
  }
  column "founded" {
    null = true
    type = date
  }
  column "last_contact" {
    null = true
    type = timestamptz
  }
  column "priority" {
    null    = false
    type    = varchar
    default = sql("'normal'")
  }
  column "email" {
    null = true
    type = varchar
  }
  column "phone" {
    null = true
    type = varchar
  }
  column "website" {
    null = true
    type = varchar
  }
  column "extra" {
    null = true
    type = jsonb
  }
  column "tax_id" {
    null = true
    type = varchar
  }
  column "name_length" {
    null = true
    type = bigint
  }
  column "created_at" {
    null = false
    type = timestamptz
  }
  column "updated_at" {
    null = false
    type = timestamptz
  }
  column "deleted_at" {
    null = true
    type = timestamptz
  }
  column "version" {
    null    = false
    type    = bigint
    default = sql("1")
  }
  column "category_id" {
    null = true
    type = bigint
  }
  column "owner_id" {
    null = true
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "accounts_categories_accounts" {
    columns     = [column.category_id]
    ref_columns = [table.categories.column.id]
    on_delete   = RESTRICT
  }
  foreign_key "accounts_users_accounts_by_owner" {
    columns     = [column.owner_id]
    ref_columns = [table.users.column.id]
    on_delete   = SET_NULL
  }
  index "accounts_tax_id_key" {
    unique  = true
    columns = [column.tax_id]
  }
  index "account_owner_id" {
    columns = [column.owner_id]
  }
  index "account_employees" {
    columns = [column.employees]
  }
  index "account_deleted_at" {
    columns = [column.deleted_at]
  }
  index "account_category_id_priority" {
    columns = [column.category_id, column.priority]
  }
  index "account_name_founded" {
    unique  = true
    columns = [column.name, column.founded]
  }
  index "accounts_name_bigrams" {
    type = GIN
    on {
      expr = "crm_bigrams(\"name\")"
    }
  }
}
table "categories" {
  schema = schema.public
  column "id" {
    null = false
    type = bigint
    identity {
      generated = BY_DEFAULT
      start     = 75849122447360
    }
  }
  column "name" {
    null = false
    type = varchar
  }
  column "created_at" {
    null = false
    type = timestamptz
  }
  column "updated_at" {
    null = false
    type = timestamptz
  }
  column "parent_id" {
    null = true
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "categories_categories_children" {
    columns     = [column.parent_id]
    ref_columns = [column.id]
    on_delete   = CASCADE
  }
  index "categories_name_key" {
    unique  = true
    columns = [column.name]
  }
  index "category_parent_id" {
    columns = [column.parent_id]
  }
  index "categories_name_bigrams" {
    type = GIN
    on {
      expr = "crm_bigrams(\"name\")"
    }
  }
}
table "contacts" {
  schema = schema.public
  column "id" {
    null = false
    type = bigint
    identity {
      generated = BY_DEFAULT
      start     = 136468290863104
    }
  }
  column "name" {
    null = false
    type = varchar
  }
  column "account_id" {
    null = false
    type = bigint
  }
  column "manager_id" {
    null = true
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "contacts_accounts_contacts" {
    columns     = [column.account_id]
    ref_columns = [table.accounts.column.id]
    on_delete   = CASCADE
  }
  foreign_key "contacts_users_managed_contacts" {
    columns     = [column.manager_id]
    ref_columns = [table.users.column.id]
    on_delete   = SET_NULL
  }
  index "contact_account_id" {
    columns = [column.account_id]
  }
  index "contact_manager_id" {
    columns = [column.manager_id]
  }
  index "contacts_name_bigrams" {
    type = GIN
    on {
      expr = "crm_bigrams(\"name\")"
    }
  }
}
table "teams" {
  schema = schema.public
  column "id" {
    null = false
    type = bigint
    identity {
      generated = BY_DEFAULT
      start     = 17046725197824
    }
  }
  column "name" {
    null = false
    type = varchar
  }
  column "created_at" {
    null = false
    type = timestamptz
  }
  column "updated_at" {
    null = false
    type = timestamptz
  }
  column "parent_id" {
    null = true
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "teams_teams_children" {
    columns     = [column.parent_id]
    ref_columns = [column.id]
    on_delete   = RESTRICT
  }
  index "team_parent_id" {
    columns = [column.parent_id]
  }
  index "teams_name_bigrams" {
    type = GIN
    on {
      expr = "crm_bigrams(\"name\")"
    }
  }
}
table "users" {
  schema = schema.public
  column "id" {
    null = false
    type = bigint
    identity {
      generated = BY_DEFAULT
      start     = 140058883522560
    }
  }
  column "username" {
    null = false
    type = varchar
  }
  column "display_name" {
    null = true
    type = varchar
  }
  column "email" {
    null = true
    type = varchar
  }
  column "phone" {
    null = true
    type = varchar
  }
  column "active" {
    null    = false
    type    = boolean
    default = sql("true")
  }
  column "roles" {
    null = true
    type = jsonb
  }
  column "password_hash" {
    null = true
    type = varchar
  }
  column "created_at" {
    null = false
    type = timestamptz
  }
  column "updated_at" {
    null = false
    type = timestamptz
  }
  column "team_id" {
    null = true
    type = bigint
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "users_teams_members" {
    columns     = [column.team_id]
    ref_columns = [table.teams.column.id]
    on_delete   = SET_NULL
  }
  index "users_username_key" {
    unique  = true
    columns = [column.username]
  }
  index "user_team_id" {
    columns = [column.team_id]
  }
  index "users_username_bigrams" {
    type = GIN
    on {
      expr = "crm_bigrams(\"username\")"
    }
  }
  index "users_display_name_bigrams" {
    type = GIN
    on {
      expr = "crm_bigrams(\"display_name\")"
    }
  }
}
table "account_tags" {
  schema = schema.public
  column "account_id" {
    null = false
    type = bigint
  }
  column "category_id" {
    null = false
    type = bigint
  }
  primary_key {
    columns = [column.account_id, column.category_id]
  }
  foreign_key "account_tags_account_id" {
    columns     = [column.account_id]
    ref_columns = [table.accounts.column.id]
    on_delete   = CASCADE
  }
  foreign_key "account_tags_category_id" {
    columns     = [column.category_id]
    ref_columns = [table.categories.column.id]
    on_delete   = CASCADE
  }
}
schema "public" {
}
