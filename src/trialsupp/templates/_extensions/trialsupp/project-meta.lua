-- trialsupp: project metadata as the built-in publisher reads it. Runs at `pre-ast`,
-- before Quarto reads its options.
--
-- 1. `crossref: title-delim: "."` stays a full stop. Quarto rewrites every string of
--    the project's _quarto.yml that names an existing path relative to the document,
--    so "." (the project folder) arrives in report/<study>/index.qmd as "../.." and
--    captions read "eTable 1../..".
-- 2. The report's front-matter `trialsupp:` map is merged into the project's (the
--    staged _quarto.yml holds the study's citation, statement, simulated flag, ...);
--    Quarto lets the front-matter map replace the project map as a whole.

local function project_meta()
  local dir = quarto.project and quarto.project.directory
  if dir == nil then
    return nil
  end
  local handle = io.open(pandoc.path.join({ dir, "_quarto.yml" }), "r")
  if handle == nil then
    return nil
  end
  local text = handle:read("a")
  handle:close()
  return pandoc.read("---\n" .. text .. "\n---\n", "markdown").meta
end

local function fix_title_delim(meta)
  local crossref = meta.crossref
  if crossref == nil or crossref["title-delim"] == nil then
    return false
  end
  local delim = pandoc.utils.stringify(crossref["title-delim"])
  local offset = quarto.project.offset
  if offset ~= nil and offset ~= "." and delim == offset then
    crossref["title-delim"] = pandoc.MetaInlines({ pandoc.Str(".") })
    meta.crossref = crossref
    return true
  end
  return false
end

local function merge_trialsupp(meta)
  local doc_map = meta.trialsupp
  if doc_map == nil or pandoc.utils.type(doc_map) ~= "table" then
    return false
  end
  local project = project_meta()
  local project_map = project and project.trialsupp
  if project_map == nil then
    return false
  end
  local changed = false
  for key, value in pairs(project_map) do
    if doc_map[key] == nil then
      doc_map[key] = value
      changed = true
    end
  end
  meta.trialsupp = doc_map
  return changed
end

function Meta(meta)
  local a = fix_title_delim(meta)
  local b = merge_trialsupp(meta)
  if a or b then
    return meta
  end
  return nil
end
