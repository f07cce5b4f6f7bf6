-- trialsupp: what the built-in publisher (trialsupp.publish.builtin) adds around
-- the report, done for Quarto, so that both engines give the same supplement.
--
-- * Every embedded element gets its source line: "Source: <notebook>, cell <label>;
--   ARD ids <prefix>.*" (HTML: a link to the notebook preview notebooks/<stem>.html
--   next to the output; PDF: a small line under the element). Quarto's own
--   `notebook` attributes (absolute paths into the build folder) are dropped.
--   eFigures also list the ARD rows they show (HTML).
-- * HTML: the contents list of eTables/eFigures (`ts-floats`, read by the toc.html
--   partial, which also writes the JAMA front block), the footer line, and the ARD
--   provenance blob limited to the rows the page shows plus provenance.js.
-- * The run date and time (from _results/run.json) for the PDF footer.
--
-- Reads the report's _results/floats.json, run.json and ard-shown.json (else ard.json;
-- not when the blob is written after the render),
-- written by trialsupp's staging step (`trialsupp render` or the pre-render script).

local function project_dir()
  if quarto.project ~= nil and quarto.project.directory ~= nil then
    return quarto.project.directory
  end
  return pandoc.path.directory(quarto.doc.input_file)
end

-- the report's own results folder (report/<study>/_results/)
local function results_path(name)
  return pandoc.path.join({ pandoc.path.directory(quarto.doc.input_file), "_results", name })
end

local function read_abs(path)
  local handle = io.open(path, "r")
  if handle == nil then
    return nil
  end
  local text = handle:read("a")
  handle:close()
  return text
end

local function read_file(rel)
  return read_abs(pandoc.path.join({ project_dir(), rel }))
end

local function read_json(path)
  local text = read_abs(path)
  if text == nil then
    return nil
  end
  return quarto.json.decode(text)
end

local function html_escape(s)
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

local function typst_string(s)
  return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"') .. '"'
end

local is_html = quarto.doc.is_format("html")
local is_typst = quarto.doc.is_format("typst")
local shown_by_figure = nil

-- {fig label: {ard_ids = [...], after = legend markdown}} (publish.embed.display_copy)
local function figure_info(label)
  if shown_by_figure == nil then
    shown_by_figure = read_json(results_path("floats.json")) or {}
  end
  return shown_by_figure[label] or {}
end

local function figure_ids(label)
  return figure_info(label).ard_ids or {}
end

-- Every ARD id of an element starts with its label stem (trialsupp.ard.store.row_id).
local function ard_prefix(label)
  return (label:match("^tbl%-(.+)$") or label:match("^fig%-(.+)$") or label) .. ".*"
end

local function relative_to_project(path)
  local root = project_dir()
  if path:sub(1, #root + 1) == root .. "/" then
    return path:sub(#root + 2)
  end
  return path
end

local function legend_blocks(label)
  local after = figure_info(label).after
  if type(after) ~= "string" or after == "" then
    return {}
  end
  return pandoc.read(after, "markdown").blocks
end

local function source_blocks(rel, label)
  local cell = label
  if is_html then
    local stem = rel:match("([^/]+)%.ipynb$") or rel
    local href = "notebooks/" .. stem .. ".html#" .. cell
    local blocks = {
      pandoc.Div({ pandoc.Para({ pandoc.Str("Source: "), pandoc.Link(rel, href),
        pandoc.Str(", cell " .. cell .. "; ARD ids "), pandoc.Code(ard_prefix(label)) }) },
        pandoc.Attr("", { "ts-source" })),
    }
    local ids = figure_ids(label)
    if label:match("^fig%-") and #ids > 0 then
      local listed = {}
      for _, id in ipairs(ids) do
        table.insert(listed, "<code>" .. html_escape(id) .. "</code>")
      end
      table.insert(blocks, pandoc.RawBlock("html",
        '<details class="ts-ard-list"><summary>ARD rows shown in this figure</summary>'
        .. table.concat(listed, " ") .. "</details>"))
    end
    return blocks
  elseif is_typst then
    local text = "Source: " .. rel .. ", cell " .. cell .. "; ARD ids " .. ard_prefix(label)
    return { pandoc.RawBlock("typst", "#block(above: 0.5em, text(size: 7pt, fill: luma(90), "
      .. typst_string(text) .. "))") }
  end
  return {}
end

-- Quarto's walk knows its custom nodes (FloatRefTarget); Pandoc's does not. A
-- filter runs in a sandbox whose _G is Quarto's global environment.
local quarto_ast = (_G ~= nil and _G._quarto ~= nil) and _G._quarto.ast or nil

local function walk(node, filter)
  if quarto_ast ~= nil and quarto_ast.walk ~= nil then
    return quarto_ast.walk(node, filter)
  end
  return node:walk(filter)
end

local function append(content, blocks)
  local out = pandoc.Blocks({})
  if pandoc.utils.type(content) == "Blocks" then
    out:extend(content)
  else
    out:insert(content)
  end
  out:extend(blocks)
  return out
end

local function embed_div(div)
  if not div.classes:includes("quarto-embed-nb-cell") then
    return nil
  end
  local rel = relative_to_project(div.attributes["notebook"] or "")
  div.attributes["notebook"] = nil
  div.attributes["notebook-title"] = nil
  div.attributes["notebook-cellId"] = nil
  return walk(div, {
    FloatRefTarget = function(float)
      local blocks = pandoc.Blocks(legend_blocks(float.identifier))
      blocks:extend(source_blocks(rel, float.identifier))
      float.content = append(float.content, blocks)
      return float
    end,
  })
end

-- ---- HTML: contents list, footer, provenance blob ---------------------------

local function crossref_title(meta, kind, default)
  local cr = meta.crossref
  if cr ~= nil and cr[kind .. "-title"] ~= nil then
    return pandoc.utils.stringify(cr[kind .. "-title"])
  end
  return default
end

local function float_list(doc)
  local counts = { tbl = 0, fig = 0 }
  local entries = { tbl = {}, fig = {} }
  local titles = { tbl = crossref_title(doc.meta, "tbl", "Table"), fig = crossref_title(doc.meta, "fig", "Figure") }
  local delim = "."
  if doc.meta.crossref ~= nil and doc.meta.crossref["title-delim"] ~= nil then
    delim = pandoc.utils.stringify(doc.meta.crossref["title-delim"])
  end
  walk(doc, {
    FloatRefTarget = function(float)
      local kind = (float.identifier or ""):match("^(%a+)%-")
      if counts[kind] ~= nil and float.parent_id == nil then     -- sub-floats are not listed
        counts[kind] = counts[kind] + 1
        local caption = pandoc.write(pandoc.Pandoc({ pandoc.Plain(pandoc.utils.blocks_to_inlines(
          pandoc.Blocks({ float.caption_long or pandoc.Plain({}) }))) }), "html",
          { wrap_text = "none" }):gsub("%s+$", "")
        table.insert(entries[kind], pandoc.MetaMap({
          id = pandoc.MetaString(float.identifier),
          caption = pandoc.MetaInlines({ pandoc.RawInline("html",
            html_escape(titles[kind]) .. " " .. counts[kind] .. html_escape(delim) .. " " .. caption) }),
        }))
      end
    end,
  })
  local all = pandoc.MetaList({})
  for _, kind in ipairs({ "tbl", "fig" }) do
    for _, e in ipairs(entries[kind]) do
      all:insert(e)
    end
  end
  return all
end

-- The ARD ids the page shows as values (data-ard of ard shortcodes and table cells),
-- as the built-in publisher: the blob holds these rows only.
local function shown_ids(doc)
  local ids, seen = {}, {}
  local function add(text)
    for attr in text:gmatch('data%-ard="([^"]*)"') do
      for id in attr:gmatch("%S+") do
        if not seen[id] then
          seen[id] = true
          table.insert(ids, id)
        end
      end
    end
  end
  walk(doc, {
    RawInline = function(el) if el.format == "html" then add(el.text) end end,
    RawBlock = function(el) if el.format == "html" then add(el.text) end end,
  })
  return seen
end

local function provenance_blob(doc)
  local store = read_json(results_path("ard-shown.json"))
    or read_json(results_path("ard.json"))
  local js = read_file(pandoc.path.join({ "_extensions", "trialsupp", "provenance.js" }))
  if store == nil or js == nil then
    error("trialsupp: _results/ard.json or _extensions/trialsupp/provenance.js is missing")
  end
  local wanted = shown_ids(doc)
  local rows = {}
  for _, row in ipairs(store.rows or {}) do
    if row.id ~= nil and wanted[row.id] then
      table.insert(rows, row)
    end
  end
  local json = quarto.json.encode({ run = store.run or {}, rows = rows })
  json = json:gsub("<", "\\u003c"):gsub(">", "\\u003e"):gsub("&", "\\u0026")
  return pandoc.RawBlock("html", '<script type="application/json" id="ts-ard">' .. json
    .. "</script>\n<script>\n" .. js:gsub("</script", "<\\/script") .. "\n</script>")
end

-- trialsupp's publish step (trialsupp.publish.quarto) renders with
-- `-M trialsupp-provenance:after-render` and writes the same blob into the finished page
-- itself (provenance.provenance_html, as the built-in publisher): Quarto would otherwise
-- parse and write a 1 MB <script> in its HTML post-processing.
local PROVENANCE_MARK = "<!-- trialsupp:provenance -->"

local function deferred_blob(meta)
  local how = meta["trialsupp-provenance"]
  return how ~= nil and pandoc.utils.stringify(how) == "after-render"
end

local function run_stamp(meta)
  local run = read_json(results_path("run.json"))
  local started = run and run.started
  if type(started) ~= "string" or #started < 10 then
    return
  end
  local ts = meta.trialsupp or pandoc.MetaMap({})
  if ts["run-date"] == nil then
    ts["run-date"] = pandoc.MetaString(started:sub(1, 10))
    if #started >= 16 then
      ts["run-time"] = pandoc.MetaString(started:sub(12, 16) .. " UTC")
    end
  end
  meta.trialsupp = ts
end

return {
  {
    Pandoc = function(doc)
      doc = walk(doc, { Div = embed_div })
      run_stamp(doc.meta)
      if is_html then
        doc.meta["ts-floats"] = float_list(doc)
        -- after the body, as the built-in publisher: footer line, then the provenance blob
        local after = doc.meta["include-after"] or pandoc.MetaList({})
        local ts = doc.meta.trialsupp
        if ts ~= nil and ts.footer ~= nil then
          after:insert(pandoc.MetaBlocks({ pandoc.RawBlock("html", '<footer class="ts-footer">'
            .. html_escape(pandoc.utils.stringify(ts.footer)) .. "</footer>") }))
        end
        if deferred_blob(doc.meta) then
          after:insert(pandoc.MetaBlocks({ pandoc.RawBlock("html", PROVENANCE_MARK) }))
        else
          after:insert(pandoc.MetaBlocks({ provenance_blob(doc) }))
        end
        doc.meta["include-after"] = after
      end
      return doc
    end,
  },
}
